#!/usr/bin/env python3
"""Registry replication: what it adds to a push, how fast the forwarder delivers, how long a
destination that was down takes to catch up, and `skopeo sync` doing the same copy.

    python3 benchmarks/replication.py [--bin DIR] [--pushes 15] [--images 250] [--repos 5]

Four measurements in one run, every registry a `berth-registry serve` on 127.0.0.1 with its
root under /tmp (the machine's own disk here):
1. Push latency: `skopeo copy` of a 2-layer image (256 KiB + 1 MiB), median of --pushes, to a
   registry without replication, with replication to a destination that is up, and with
   replication to one that is down (the queue's cost alone).
2. Sustained delivery with the destination up: --images small images (one layer each, 4 queue
   events per image) pushed over HTTP by 4 threads into --repos repositories; events per
   second from the first push to the last delivery, and the lag of each image (push answered
   to its tag answering at the destination), p50 and p99.
3. Catch-up: the same number of images pushed while the destination is down, then the time
   from its start until the queue reports nothing pending.
4. `skopeo sync` of the same repositories from the source to a fresh registry.
Timing assertions are not tests: this only prints numbers."""
import argparse
import hashlib
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EVENTS_PER_IMAGE = 4  # config blob, layer blob, manifest by digest, tag
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Pusher:
    """Pushes small images over one keep-alive HTTP connection: two monolithic blob uploads and
    a manifest put by tag."""

    def __init__(self, address):
        host, port = address.split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def call(self, method, path, body=b"", headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data

    def push(self, repo, tag, seed):
        layer = hashlib.sha512(seed.encode()).digest() * 64
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
                             "config": {"Labels": {"seed": seed}}}).encode()
        for blob in (config, layer):
            status, body = self.call("POST", f"/v2/{repo}/blobs/uploads/?digest={digest(blob)}", blob,
                                     {"Content-Type": "application/octet-stream"})
            if status != 201:
                raise RuntimeError(f"blob upload to {repo} answered {status}: {body[:200]}")
        manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": len(config)},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": len(layer)}]}).encode()
        status, body = self.call("PUT", f"/v2/{repo}/manifests/{tag}", manifest, {"Content-Type": MANIFEST})
        if status != 201:
            raise RuntimeError(f"manifest put to {repo}:{tag} answered {status}: {body[:200]}")


def push_images(address, images, repos, threads=4, prefix="r"):
    """Pushes `images` images spread over `repos` repositories from `threads` threads; returns
    [(repo, tag, time the push was answered)]."""
    done = []
    lock = threading.Lock()
    work = [(f"bench/{prefix}{i % repos}", f"t{i}", f"{prefix}-{i}") for i in range(images)]

    def run(part):
        pusher = Pusher(address)
        for repo, tag, seed in part:
            pusher.push(repo, tag, seed)
            with lock:
                done.append((repo, tag, time.perf_counter()))

    workers = [threading.Thread(target=run, args=(work[t::threads],)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if len(done) != images:
        raise RuntimeError(f"only {len(done)} of {images} pushes finished")
    return done


def pending(source, name):
    conn = http.client.HTTPConnection("127.0.0.1", source.port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    match = re.search(r'berth_replication_pending_events\{destination="%s"\} (\d+)' % name, text)
    return int(match.group(1)) if match else None


def wait_drained(source, name, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pending(source, name) == 0:
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError(f"destination {name} still has {pending(source, name)} events pending")


def watch_arrivals(destination, order, arrivals, stop):
    """Records when each pushed tag first answers at `destination`: (repo, tag) -> time. A
    repository's events arrive in order, so only the oldest missing tag of each repository is
    asked for (a light load on the destination)."""
    conn = http.client.HTTPConnection("127.0.0.1", destination.port, timeout=10)
    lanes = {}
    for repo, tag in order:
        lanes.setdefault(repo, []).append(tag)
    while not stop.is_set() and any(lanes.values()):
        for repo, waiting in lanes.items():
            while waiting:
                conn.request("HEAD", f"/v2/{repo}/manifests/{waiting[0]}", headers={"Accept": MANIFEST})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    break
                arrivals[(repo, waiting.pop(0))] = time.perf_counter()
        time.sleep(0.005)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=None, help="directory with berth-registry (default .build/release, else .build/debug)")
    parser.add_argument("--pushes", type=int, default=15)
    parser.add_argument("--images", type=int, default=250)
    parser.add_argument("--repos", type=int, default=5)
    args = parser.parse_args()
    build = args.bin or next(d for d in [os.path.join(REPO, ".build", "release"), os.path.join(REPO, ".build", "debug")]
                             if os.path.exists(os.path.join(d, "berth-registry")))
    os.environ["BERTH_BUILD_DIR"] = build
    sys.path.insert(0, os.path.join(REPO, "tests", "registry_server"))
    from serverlib import Server, make_oci_layout, skopeo

    class Replicating(Server):
        def __init__(self, destination):
            super().__init__()
            self.destination = destination

        def command(self):
            return super().command() + ["--replicate-to", f"b={self.destination.url}", "--replication-backoff-max", "1"]

    print(f"berth-registry from {build}; registry roots under /tmp (the machine's own disk here)")
    servers = []

    def started(server):
        servers.append(server)
        return server.start()

    try:
        with tempfile.TemporaryDirectory(prefix="replbench-") as work:
            layout = os.path.join(work, "layout")
            make_oci_layout(layout, layer_sizes=((256 << 10, False), (1 << 20, False)))

            def push_latency(server):
                times = []
                for i in range(args.pushes):
                    start = time.perf_counter()
                    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{server.address}/lat/app{i}:v1")
                    times.append(time.perf_counter() - start)
                return statistics.median(times) * 1000

            plain = started(Server())
            up = started(Server())
            on_up = started(Replicating(up))
            down = Server()
            servers.append(down)
            on_down = started(Replicating(down))
            # Interleaved, so drift of the machine hits every mode alike.
            rounds = {"off": [], "on, destination up": [], "on, destination down": []}
            for _ in range(2):
                rounds["off"].append(push_latency(plain))
                rounds["on, destination up"].append(push_latency(on_up))
                rounds["on, destination down"].append(push_latency(on_down))
            off = statistics.median(rounds["off"])
            print(f"\n1. push latency, skopeo copy of 2 layers, median of {args.pushes} pushes per round, 2 rounds")
            print("| replication | ms (each round) | vs off |\n|---|---:|---:|")
            for mode, values in rounds.items():
                print(f"| {mode} | {statistics.median(values):.1f} ({', '.join(f'{v:.1f}' for v in values)}) | {statistics.median(values) / off:.3f}x |")
            for s in (plain, on_up, on_down, up):
                s.cleanup()

            dest = started(Server())
            source = started(Replicating(dest))
            arrivals = {}
            stop = threading.Event()
            order = [(f"bench/s{i % args.repos}", f"t{i}") for i in range(args.images)]
            watcher = threading.Thread(target=watch_arrivals, args=(dest, order, arrivals, stop))
            first = time.perf_counter()
            watcher.start()
            pushed = push_images(source.address, args.images, args.repos, prefix="s")
            last_push = max(t for _, _, t in pushed)
            drained = wait_drained(source, "b")
            watcher.join(timeout=60)
            stop.set()
            lags = [(arrivals[(repo, tag)] - answered) * 1000 for repo, tag, answered in pushed if (repo, tag) in arrivals]
            events = args.images * EVENTS_PER_IMAGE
            print(f"\n2. sustained delivery: {args.images} images ({events} events) pushed by 4 threads into {args.repos} repositories, destination up")
            print(f"pushes took {last_push - first:.2f} s ({events / (last_push - first):.0f} events/s accepted); "
                  f"all delivered {drained - first:.2f} s after the first push: {events / (drained - first):.0f} events/s delivered")
            print(f"lag, push answered to tag at the destination, {len(lags)} images: p50 {percentile(lags, 50):.1f} ms, "
                  f"p99 {percentile(lags, 99):.1f} ms, max {max(lags):.1f} ms")
            source.cleanup()
            dest.cleanup()

            dest = Server()
            servers.append(dest)
            source = started(Replicating(dest))
            push_images(source.address, args.images, args.repos, prefix="c")
            time.sleep(1)
            waiting = pending(source, "b")
            start = time.perf_counter()
            dest.start()
            before = (cpu_seconds(source.proc.pid), cpu_seconds(dest.proc.pid))
            drained = wait_drained(source, "b")
            catch_up = drained - start
            used = (cpu_seconds(source.proc.pid) - before[0], cpu_seconds(dest.proc.pid) - before[1])
            print(f"\n3. catch-up: {waiting} events queued while the destination was down; "
                  f"{catch_up:.2f} s from its start to nothing pending ({waiting / catch_up:.0f} events/s; back-off capped at 1 s); "
                  f"CPU: source with its forwarder {used[0]:.2f} s, destination {used[1]:.2f} s")

            fresh = started(Server())
            start = time.perf_counter()
            for r in range(args.repos):
                skopeo("sync", "--src", "docker", "--dest", "docker", "--src-tls-verify=false", "--dest-tls-verify=false",
                       f"{source.address}/bench/c{r}", f"{fresh.address}/bench", timeout=1800)
            sync = time.perf_counter() - start
            print(f"\n4. skopeo sync of the same {args.repos} repositories ({args.images} tags) to a fresh registry: {sync:.2f} s "
                  f"-> the forwarder's catch-up is {sync / catch_up:.1f}x faster")
    finally:
        for s in servers:
            s.cleanup()


if __name__ == "__main__":
    main()
