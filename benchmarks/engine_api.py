#!/usr/bin/env python3
"""The Engine API under load, side by side: berthd and, where available, dockerd (Debian's
docker.io, `--with-docker` installs it) and podman's Docker-compatible service, each driven
by the same docker-py code over its own Unix socket, on the same busybox image, in one run.

    python3 benchmarks/engine_api.py [--bin DIR] [--with-docker] [--no-podman] [--count N]

- throughput: create+start+wait+rm of `true` by 8 parallel clients, containers per second;
- start 50 detached (`sleep`) one after another, total seconds;
- with N (100) containers running: `GET /containers/json?all=1` and `inspect`, medians,
  through docker-py and through a thin client (one kept-alive HTTP connection from Python's
  http.client, so the figure is mostly the daemon's own time); the daemon's RSS;
- `rm -f` of 50 running containers one after another, total seconds.
Timing assertions are not tests: this only prints numbers."""
import argparse
import http.client
import os
import socket
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import docker

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix socket, kept alive between requests."""

    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def raw_get_ms(connection, path, times):
    """Median milliseconds of `times` GETs of `path`, the whole body read each time."""
    samples = []
    for _ in range(times):
        t = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        samples.append(time.perf_counter() - t)
        if response.status != 200 or not body:
            raise RuntimeError(f"GET {path}: {response.status}")
    return statistics.median(samples) * 1000


def wait_for_socket(sock, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            docker.DockerClient(base_url="unix://" + sock, timeout=5).ping()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {sock}")


def measure(name, sock, pid, count):
    client = docker.DockerClient(base_url="unix://" + sock, timeout=120)
    results = {}
    # Warm up.
    for _ in range(3):
        c = client.containers.create("bench-busybox", ["true"], network_mode="none")
        c.start()
        c.wait()
        c.remove()
    # Throughput: 8 clients.
    per_client = max(1, count // 8)
    errors = []

    def cycle():
        try:
            for _ in range(per_client):
                c = client.containers.create("bench-busybox", ["true"], network_mode="none")
                c.start()
                c.wait()
                c.remove()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=cycle) for _ in range(8)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{name}: {errors[0]!r}")
    results["throughput (containers/s, 8 clients)"] = 8 * per_client / elapsed
    # Start 50 detached, one after another.
    started = time.perf_counter()
    batch = []
    for i in range(50):
        c = client.containers.create("bench-busybox", ["sleep", "600"], network_mode="none", name=f"bench-d-{i}")
        c.start()
        batch.append(c)
    results["start 50 detached (s)"] = time.perf_counter() - started
    # Up to `count` running: list and inspect.
    for i in range(50, count):
        c = client.containers.create("bench-busybox", ["sleep", "600"], network_mode="none", name=f"bench-d-{i}")
        c.start()
        batch.append(c)
    time.sleep(1)
    results[f"RSS with {count} running (MiB)"] = rss_mib(pid)
    api = client.api
    lists = []
    for _ in range(20):
        t = time.perf_counter()
        api.containers(all=True)
        lists.append(time.perf_counter() - t)
    results[f"GET /containers/json, {count} containers (ms)"] = statistics.median(lists) * 1000
    inspects = []
    for c in batch[:50]:
        t = time.perf_counter()
        api.inspect_container(c.id)
        inspects.append(time.perf_counter() - t)
    results["inspect (ms)"] = statistics.median(inspects) * 1000
    connection = UnixHTTPConnection(sock)
    raw_get_ms(connection, "/_ping", 5)
    results[f"thin client: GET /containers/json, {count} containers (ms)"] = raw_get_ms(connection, "/containers/json?all=1", 50)
    results["thin client: inspect (ms)"] = statistics.median(raw_get_ms(connection, f"/containers/{c.id}/json", 1) for c in batch[:50])
    results["thin client: _ping (ms)"] = raw_get_ms(connection, "/_ping", 50)
    connection.close()
    # rm -f 50 running, one after another; then the rest.
    started = time.perf_counter()
    for c in batch[:50]:
        api.remove_container(c.id, force=True)
    results["rm -f 50 running (s)"] = time.perf_counter() - started
    for c in batch[50:]:
        api.remove_container(c.id, force=True)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    parser.add_argument("--with-docker", action="store_true")
    parser.add_argument("--no-podman", action="store_true")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import Daemon, make_busybox_tar

    work = tempfile.mkdtemp(prefix="be-", dir="/tmp")
    tar = make_busybox_tar(work)
    table = {}
    daemon = Daemon()
    try:
        daemon.start()
        daemon.docker("import", tar, "bench-busybox", check=True)
        table["berthd"] = measure("berthd", daemon.host.removeprefix("unix://"), daemon.proc.pid, args.count)
    finally:
        daemon.cleanup()
    if args.with_docker:
        if not shutil.which("dockerd"):
            subprocess.run(["apt-get", "install", "-y", "-qq", "docker.io"], check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        sock = os.path.join(work, "docker.sock")
        proc = subprocess.Popen(["dockerd", "--host", "unix://" + sock, "--data-root", os.path.join(work, "docker-data"),
                                 "--exec-root", os.path.join(work, "docker-exec"), "--pidfile", os.path.join(work, "docker.pid"),
                                 "--bridge", "none", "--iptables=false"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_socket(sock)
            subprocess.run(["docker", "-H", "unix://" + sock, "import", tar, "bench-busybox"], check=True, capture_output=True)
            table["dockerd"] = measure("dockerd", sock, proc.pid, args.count)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    if not args.no_podman and shutil.which("podman"):
        sock = os.path.join(work, "podman.sock")
        root, runroot = os.path.join(work, "podman-root"), os.path.join(work, "podman-run")
        base = ["podman", "--root", root, "--runroot", runroot]
        proc = subprocess.Popen(base + ["system", "service", "--time=0", "unix://" + sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_socket(sock)
            subprocess.run(base + ["import", tar, "bench-busybox"], check=True, capture_output=True)
            try:
                table["podman service"] = measure("podman", sock, proc.pid, args.count)
            except docker.errors.APIError as e:
                print(f"# podman's service could not run the workload here: {e.explanation}")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            subprocess.run(base + ["rm", "-af"], capture_output=True)
            subprocess.run(["umount", "-R", root], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)
    engines = list(table)
    keys = list(table["berthd"])
    print("| measure | " + " | ".join(engines) + " | " + " | ".join(f"{e} / berthd" for e in engines[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(engines) - 1))
    for key in keys:
        values = [table[e][key] for e in engines]
        ratios = [v / values[0] if values[0] else 0 for v in values[1:]]
        print(f"| {key} | " + " | ".join(f"{v:.2f}" for v in values) + " | " + " | ".join(f"{r:.2f}x" for r in ratios) + " |")


if __name__ == "__main__":
    main()
