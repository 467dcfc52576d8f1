#!/usr/bin/env python3
"""Registry server throughput: berth-registry beside Debian's docker-registry on the same image.

    python3 benchmarks/registry_serve.py [--bin DIR] [--clients 8] [--rounds 5] [--repeat 3]

Makes an OCI layout of one image with several layers (random and compressible data, ~150 MB
of blobs), pushes it with `skopeo copy` to each registry (timed), then times `--clients`
concurrent pulls of all its blobs over plain HTTP (one `curl` per client fetching every blob
in turn on one connection), and prints MB/s, the ratio to docker-registry, and each server's
peak RSS. Timing assertions are not tests: this only prints numbers."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LAYERS = [(40 << 20, False), (40 << 20, False), (30 << 20, False), (80 << 20, True), (16 << 20, True), (4 << 20, False)]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pull_all(server, repo, blobs, clients, repeat):
    """Seconds for `clients` concurrent curls each fetching every blob `repeat` times."""
    urls = [f"{server.url}/v2/{repo}/blobs/sha256:{b}" for b in blobs] * repeat
    start = time.perf_counter()
    procs = [subprocess.Popen(["curl", "-sS", "-w", "%{http_code} %{url_effective}\\n", *sum([["-o", "/dev/null", u] for u in urls], [])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(clients)]
    outcomes = [p.communicate() for p in procs]
    elapsed = time.perf_counter() - start
    failed = [line for out, _ in outcomes for line in out.decode().splitlines() if not line.startswith("200 ")]
    errors = [err.decode(errors="replace") for _, err in outcomes if err]
    if failed or errors or any(p.returncode for p in procs):
        raise RuntimeError(f"pulls from {server.url} failed: {failed[:5]} {errors[:2]}")
    return elapsed


def measure(server_class, name, layout, blobs, total, args):
    from serverlib import skopeo
    server = server_class()
    try:
        server.start()
        start = time.perf_counter()
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{server.address}/bench/image:v1")
        push = time.perf_counter() - start
        times = [pull_all(server, "bench/image", blobs, args.clients, args.repeat) for _ in range(args.rounds)]
        pull = statistics.median(times)
        return {"name": name, "push_s": push, "push_mbs": total / push / 1e6,
                "pull_s": pull, "pull_mbs": args.clients * args.repeat * total / pull / 1e6, "rss": peak_rss_mib(server.proc.pid)}
    finally:
        server.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=None, help="directory with berth-registry (default .build/release, else .build/debug)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="each client fetches every blob this many times per round")
    args = parser.parse_args()
    build = args.bin or next(d for d in [os.path.join(REPO, ".build", "release"), os.path.join(REPO, ".build", "debug")]
                             if os.path.exists(os.path.join(d, "berth-registry")))
    os.environ["BERTH_BUILD_DIR"] = build
    sys.path.insert(0, os.path.join(REPO, "tests", "registry_server"))
    from serverlib import DistributionRegistry, Server, layout_blobs, make_oci_layout

    with tempfile.TemporaryDirectory(prefix="regbench-") as work:
        layout = os.path.join(work, "layout")
        manifest = make_oci_layout(layout, layer_sizes=LAYERS)
        # The config and layers; the manifest is fetched from /manifests/, not /blobs/.
        blobs = [b for b in layout_blobs(layout) if "sha256:" + b != manifest]
        total = sum(os.path.getsize(os.path.join(layout, "blobs", "sha256", b)) for b in blobs)
        print(f"image: {len(blobs)} blobs, {total / 1e6:.1f} MB; {args.clients} concurrent clients each pulling every blob "
              f"{args.repeat}x, median of {args.rounds} rounds; berth-registry from {build}; load average {os.getloadavg()[0]:.2f}")
        results = [measure(Server, "berth-registry", layout, blobs, total, args),
                   measure(DistributionRegistry, "docker-registry (Debian)", layout, blobs, total, args)]
    base = results[1]
    print(f"\n| server | push s (MB/s) | {args.clients} clients, s | pull MB/s | vs docker-registry | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['name']} | {r['push_s']:.2f} ({r['push_mbs']:.0f}) | {r['pull_s']:.2f} | {r['pull_mbs']:.0f} | "
              f"{r['pull_mbs'] / base['pull_mbs']:.2f}x | {r['rss']:.1f} |")


if __name__ == "__main__":
    main()
