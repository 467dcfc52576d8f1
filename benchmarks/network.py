#!/usr/bin/env python3
"""Bridge networking, berthd beside dockerd in the same run (issue 9's speed targets):

1. What networking adds to a start: `run --rm busybox true` with `--network none`, with the
   default bridge, and with a published port, interleaved run by run, medians.
2. Traffic through a published port on 127.0.0.1 against the container's own address: a
   64 MiB file from busybox httpd (curl), 1 GiB TCP streams into and out of the container
   (its end is `netpipe.c`, built static here and bind-mounted), and the latency of small
   HTTP requests. Berth forwards in the kernel (nftables DNAT); docker's loopback path
   is its userland proxy (`docker-proxy`).
3. Name resolution with 100 containers on one user network: A queries for random container
   names at 127.0.0.11, sent from inside a container's namespace, p50 and p99.

dockerd runs with `--iptables=false --ip-forward=false --ip-masq=false` and a bridge of its
own (`--bip`), so it changes no host-wide firewall rule or kernel setting (its published
ports are then served by `docker-proxy` alone, which is also what carries docker's loopback
traffic with iptables on). podman is left out here: its netavark writes the host's firewall
chains for every bridge container and has no switch to stay out of them.

    python3 benchmarks/network.py [--bin DIR] [--runs N] [--no-docker] [--dns-containers N] [--parts start,ports,dns]

Timing assertions are not tests: this only prints numbers."""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))

DNS_CLIENT = r"""
import random, socket, struct, sys, time
names = sys.argv[2].split(",")
count = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
times, failures = [], 0
for i in range(count):
    name = random.choice(names)
    query = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    started = time.perf_counter()
    s.sendto(query, ("127.0.0.11", 53))
    try:
        reply = s.recv(512)
    except OSError:
        failures += 1
        continue
    times.append((time.perf_counter() - started) * 1000)
    if struct.unpack(">H", reply[6:8])[0] < 1:
        failures += 1
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[int(len(times) * 0.99)]:.3f} {failures}")
"""


class Engine:
    """One daemon as the docker CLI sees it."""

    def __init__(self, name, host):
        self.name = name
        self.host = host

    def docker(self, *args, check=True):
        env = dict(os.environ, DOCKER_HOST=self.host)
        env.pop("DOCKER_CONTEXT", None)
        r = subprocess.run(["docker", *args], capture_output=True, env=env, timeout=300)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name}: docker {' '.join(args)}: {r.stderr.decode(errors='replace')}")
        return r

    def inspect(self, name):
        return json.loads(self.docker("inspect", name).stdout)[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_answering(url, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            subprocess.run(["curl", "-sf", "-o", "/dev/null", "--max-time", "2", url], check=True)
            return
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def start_costs(engines, berth_cli, runs):
    """Median ms of `run --rm busybox true` per variant, each engine through the docker CLI (and
    Berth through its own CLI too), interleaved."""
    variants = {"--network none": ["--network", "none"], "bridge": ["--network", "bridge"], "bridge -p 80": ["--network", "bridge", "-p", "80"]}
    commands = {}
    for engine in engines:
        env_host = engine.host
        for variant, extra in variants.items():
            commands[(f"{engine.name} (docker CLI)", variant)] = ["docker", "-H", env_host, "run", "--rm", *extra, "busybox", "true"]
    for variant, extra in variants.items():
        commands[("berthd (berth CLI)", variant)] = berth_cli + ["run", "--rm", *extra, "busybox", "true"]
    samples = {key: [] for key in commands}
    for command in commands.values():
        subprocess.run(command, check=True, capture_output=True)
    for i in range(runs):
        order = list(commands.items())
        if i % 2:
            order.reverse()
        for key, command in order:
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            samples[key].append((time.perf_counter() - started) * 1000)
    print("\n### Start cost: `run --rm busybox true`, median ms\n")
    print("| client and engine | --network none | bridge | added | bridge -p 80 | added |")
    print("|---|---:|---:|---:|---:|---:|")
    for client in dict.fromkeys(key[0] for key in samples):
        none = statistics.median(samples[(client, "--network none")])
        bridge = statistics.median(samples[(client, "bridge")])
        port = statistics.median(samples[(client, "bridge -p 80")])
        print(f"| {client} | {none:.1f} | {bridge:.1f} | {bridge - none:+.1f} | {port:.1f} | {port - none:+.1f} |")


def download_mbps(url, trials):
    speeds = []
    for _ in range(trials):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}", url], check=True, capture_output=True).stdout
        speeds.append(float(out) / 1e6)
    return statistics.median(speeds)


def stream_mbps(host, port, megabytes, trials, sending):
    """MB/s of a TCP stream of `megabytes` to netpipe's sink (`sending`) or from its source."""
    chunk = memoryview(bytearray(4 << 20))
    total = megabytes << 20
    speeds = []
    for _ in range(trials):
        for _attempt in range(50):
            try:
                s = socket.create_connection((host, port), timeout=10)
                break
            except OSError:
                time.sleep(0.1)
        started = time.perf_counter()
        moved = 0
        if sending:
            while moved < total:
                s.sendall(chunk)
                moved += len(chunk)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        else:
            while moved < total:
                count = s.recv_into(chunk)
                if not count:
                    break
                moved += count
        speeds.append(moved / (time.perf_counter() - started) / 1e6)
        s.close()
        time.sleep(0.2)
    return statistics.median(speeds)


def request_latency(host, port, count):
    times = []
    for _ in range(count):
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=5)
        connection.request("GET", "/small")
        connection.getresponse().read()
        connection.close()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def port_traffic(engines, trials, netpipe):
    rows = []
    for engine in engines:
        web, sink, source = free_port(), free_port(), free_port()
        name = f"bench-web-{engine.name}"
        engine.docker("run", "-d", "--name", name, "-v", f"{netpipe}:/netpipe:ro",
                      "-p", f"127.0.0.1:{web}:80", "-p", f"127.0.0.1:{sink}:9000", "-p", f"127.0.0.1:{source}:9001", "busybox", "sh", "-c",
                      "mkdir -p /www; dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null; echo hi > /www/small; "
                      "/netpipe sink 9000 & /netpipe source 9001 & exec httpd -f -p 80 -h /www")
        try:
            address = engine.inspect(name)["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
            for label, host, ports in [("127.0.0.1, published", "127.0.0.1", (web, sink, source)), ("container address", address, (80, 9000, 9001))]:
                wait_answering(f"http://{host}:{ports[0]}/small")
                file_speed = download_mbps(f"http://{host}:{ports[0]}/big", trials)
                upload = stream_mbps(host, ports[1], 1024, trials, sending=True)
                download = stream_mbps(host, ports[2], 1024, trials, sending=False)
                p50, p99 = request_latency(host, ports[0], 300)
                rows.append((engine.name, label, file_speed, upload, download, p50, p99))
        finally:
            engine.docker("rm", "-f", name, check=False)
    print("\n### Traffic through a published port (medians of trials; latency over 300 requests)\n")
    print("| engine | path | 64 MiB file (httpd), MB/s | 1 GiB TCP into the container, MB/s | 1 GiB TCP out of it, MB/s | small GET p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for engine, label, file_speed, upload, download, p50, p99 in rows:
        print(f"| {engine} | {label} | {file_speed:.0f} | {upload:.0f} | {download:.0f} | {p50:.3f} | {p99:.3f} |")


def dns_latency(engines, containers, queries):
    print(f"\n### Name resolution, {containers} containers on one user network ({queries} A queries from inside a container)\n")
    print("| engine | start of the containers, s | p50 ms | p99 ms | failed |")
    print("|---|---:|---:|---:|---:|")
    for engine in engines:
        network = "bench-dns"
        engine.docker("network", "create", network)
        names = [f"dns-{engine.name}-{i}" for i in range(containers)]
        try:
            started = time.perf_counter()
            for name in names:
                engine.docker("run", "-d", "--name", name, "--network", network, "busybox", "sleep", "600")
            start_seconds = time.perf_counter() - started
            sandbox = engine.inspect(names[0])["NetworkSettings"]["SandboxKey"]
            r = subprocess.run(["nsenter", "--net=" + sandbox, sys.executable, "-c", DNS_CLIENT, str(queries), ",".join(names)],
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                print(f"| {engine.name} | {start_seconds:.1f} | could not query: {r.stderr.strip()[:80]} | | |")
                continue
            p50, p99, failed = r.stdout.split()
            print(f"| {engine.name} | {start_seconds:.1f} | {float(p50):.3f} | {float(p99):.3f} | {failed} |")
        finally:
            engine.docker("rm", "-f", *names, check=False)
            engine.docker("network", "rm", network, check=False)


def bridge_links():
    """The host's Linux bridges (dockerd leaves its own behind when it stops)."""
    return [name for name in os.listdir("/sys/class/net") if os.path.isdir(f"/sys/class/net/{name}/bridge")]


def start_dockerd(work, tar):
    sock = os.path.join(work, "docker.sock")
    proc = subprocess.Popen(["dockerd", "--host", "unix://" + sock, "--data-root", os.path.join(work, "docker-data"),
                             "--exec-root", os.path.join(work, "docker-exec"), "--pidfile", os.path.join(work, "docker.pid"),
                             "--bip", "10.199.0.1/24", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.1)
    engine = Engine("dockerd", "unix://" + sock)
    for _ in range(100):
        if engine.docker("version", check=False).returncode == 0:
            break
        time.sleep(0.2)
    engine.docker("import", tar, "busybox")
    return proc, engine


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--dns-containers", type=int, default=100)
    parser.add_argument("--dns-queries", type=int, default=2000)
    parser.add_argument("--parts", default="start,ports,dns", help="which measurements to run, comma-separated")
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import Daemon, binary, make_busybox_tar
    work = tempfile.mkdtemp(prefix="bn-", dir="/tmp")
    tar = make_busybox_tar(work)
    daemon = Daemon()
    dockerd = None
    links_before = set(bridge_links())
    try:
        daemon.start()
        daemon.import_busybox(tar)
        engines = [Engine("berthd", daemon.host)]
        if not args.no_docker and shutil.which("dockerd"):
            dockerd, engine = start_dockerd(work, tar)
            engines.append(engine)
        netpipe = os.path.join(work, "netpipe")
        subprocess.run(["gcc", "-static", "-O2", "-o", netpipe, os.path.join(HERE, "netpipe.c")], check=True)
        parts = args.parts.split(",")
        if "start" in parts:
            start_costs(engines, [binary("berth"), "-H", daemon.host], args.runs)
        if "ports" in parts:
            port_traffic(engines, args.trials, netpipe)
        if "dns" in parts:
            dns_latency(engines, args.dns_containers, args.dns_queries)
    finally:
        daemon.cleanup()
        if dockerd:
            subprocess.run(["docker", "-H", "unix://" + os.path.join(work, "docker.sock"), "rm", "-f", "bench-web-dockerd"], capture_output=True)
            dockerd.terminate()
            dockerd.wait(timeout=60)
            for link in set(bridge_links()) - links_before:
                subprocess.run(["ip", "link", "delete", link], capture_output=True)
            subprocess.run(["umount", "-R", os.path.join(work, "docker-data")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
