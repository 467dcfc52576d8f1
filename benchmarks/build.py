#!/usr/bin/env python3
"""Dockerfile builds, berthd beside dockerd (Debian's docker.io 20.10, classic builder) and
buildah, in the same run, interleaved run by run:

1. small: a busybox base, ENV, two RUNs, two COPYs, CMD;
2. context: six steps over a 50 MB context of 2000 files of random content and various sizes
   in nested directories (generated once into a temporary directory), copied in with one COPY.

Each is built cold (a fresh tag, `--no-cache`) and then fully cached (the same context again),
through the docker CLI (DOCKER_BUILDKIT=0, so docker's classic `POST /build`) against berthd and
against a private dockerd, with `berth build`, through the docker CLI against a second berthd
that unpacks every context on disk (`--build-context-memory 0`; by default berthd unpacks a
context into a tmpfs of the build's own), and with `buildah bud --layers` (its layer cache;
`--no-cache` when cold), all with `--network none`. Each time is the client's wall time from
start to exit, context upload included; the table has the medians of N runs and each engine's
ratio to berthd through the docker CLI.

dockerd runs as in benchmarks/network.py, on its own socket, data root and exec root under a
fresh /tmp directory, with `--iptables=false --ip6tables=false --ip-forward=false
--ip-masq=false --bridge=none`: it changes no host-wide setting. buildah uses the overlay
driver on a root of its own and its default isolation (runc: `--isolation chroot` cannot run
steps with `--network none`). Everything is removed at the end (images, daemons, directories).

    python3 benchmarks/build.py [--bin DIR] [--runs N] [--no-docker] [--no-buildah]
                                [--files N] [--context-mb MB]

Timing assertions are not tests: this only prints numbers."""
import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))

SMALL_DOCKERFILE = """FROM busybox
ENV GREETING=hello APP_HOME=/srv
RUN echo "$GREETING from a build" > /greeting && mkdir -p /srv/data && chmod 0750 /srv/data
COPY hello.txt tool.sh /srv/
COPY conf/ /etc/app/
RUN cat /srv/hello.txt /etc/app/a.conf > /srv/combined && chown -R 1:1 /srv/data
CMD ["sh", "-c", "cat /srv/combined"]
"""

CONTEXT_DOCKERFILE = """FROM busybox
ENV APP=/app
WORKDIR /app
COPY . /app/
RUN find /app -type f | wc -l > /file-count && du -s /app > /context-size
CMD ["sh"]
"""


def write_small(directory):
    files = {"Dockerfile": SMALL_DOCKERFILE, "hello.txt": "hello\n", "tool.sh": "#!/bin/sh\necho tool\n",
             "conf/a.conf": "a=1\n", "conf/sub/b.conf": "b=2\n"}
    for name, content in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
    os.chmod(os.path.join(directory, "tool.sh"), 0o755)


def write_context(directory, count, megabytes, seed=10):
    """`count` files of random bytes whose sizes (log-uniform, 64 B to about 1 MiB, scaled so
    they add up to `megabytes` MB) are fixed by `seed`, in nested directories."""
    rng = random.Random(seed)
    weights = [2 ** rng.uniform(6, 20) for _ in range(count)]
    scale = megabytes * 1_000_000 / sum(weights)
    total = 0
    for i, weight in enumerate(weights):
        path = os.path.join(directory, f"d{i % 16:02d}", f"s{i % 5}", f"t{i % 3}", f"file-{i:04d}.bin")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        size = max(1, int(weight * scale))
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        total += size
    with open(os.path.join(directory, "Dockerfile"), "w") as f:
        f.write(CONTEXT_DOCKERFILE)
    return total


class DockerCLI:
    """The docker CLI against one daemon, classic builder."""

    def __init__(self, name, short, host):
        self.name = name
        self.short = short
        self.host = host

    def env(self):
        e = dict(os.environ, DOCKER_HOST=self.host, DOCKER_BUILDKIT="0")
        e.pop("DOCKER_CONTEXT", None)
        return e

    def build_command(self, context, tag, cold):
        return ["docker", "build", "--network", "none", *(["--no-cache"] if cold else []), "-t", tag, context]

    def remove(self, tag):
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, env=self.env(), timeout=300)


class BerthCLI(DockerCLI):
    """`berth build` against berthd."""

    def __init__(self, name, short, berth, host):
        super().__init__(name, short, host)
        self.berth = berth

    def build_command(self, context, tag, cold):
        return [self.berth, "-H", self.host, "build", "--network", "none", *(["--no-cache"] if cold else []), "-t", tag, context]


class Buildah:
    """`buildah bud --layers` on a storage root of its own."""

    def __init__(self, name, short, work):
        self.name = name
        self.short = short
        self.work = work
        self.base = ["buildah", "--root", os.path.join(work, "root"), "--runroot", os.path.join(work, "run"),
                     "--storage-driver", "overlay"]
        os.makedirs(os.path.join(work, "tmp"), exist_ok=True)

    def env(self):
        return dict(os.environ, TMPDIR=os.path.join(self.work, "tmp"))

    def build_command(self, context, tag, cold):
        return [*self.base, "bud", "--runtime-flag", "root=" + os.path.join(self.work, "runc"), "--layers", "--network", "none", "--format", "docker", "--pull-never",
                *(["--no-cache"] if cold else []), "-t", tag, context]

    def remove(self, tag):
        subprocess.run([*self.base, "rmi", "-f", tag], capture_output=True, env=self.env(), timeout=300)
        subprocess.run([*self.base, "rmi", "--prune"], capture_output=True, env=self.env(), timeout=300)


def timed(engine, command):
    started = time.perf_counter()
    r = subprocess.run(command, capture_output=True, env=engine.env(), timeout=900)
    elapsed = time.perf_counter() - started
    if r.returncode != 0:
        raise RuntimeError(f"{engine.name}: {' '.join(command)} exited {r.returncode}:\n"
                           f"{(r.stdout + r.stderr).decode(errors='replace')[-3000:]}")
    return elapsed


def measure(engines, workloads, runs):
    """{(workload, cold|cached, engine): [seconds]}: per run and workload, each engine (the order
    reversed every other run) builds cold, then again cached; the tag is removed after."""
    samples = {}
    for run in range(-1, runs):  # run -1 warms every engine and file cache up, untimed
        for workload, context in workloads.items():
            order = list(engines) if run % 2 == 0 else list(reversed(engines))
            for engine in order:
                tag = f"bench-build-{workload}:run{run + 1}"
                cold = timed(engine, engine.build_command(context, tag, cold=True))
                cached = timed(engine, engine.build_command(context, tag, cold=False))
                engine.remove(tag)
                if run >= 0:
                    samples.setdefault((workload, "cold", engine.name), []).append(cold)
                    samples.setdefault((workload, "cached", engine.name), []).append(cached)
    return samples


def print_table(engines, samples, runs, labels):
    names = [e.name for e in engines]
    shorts = [e.short for e in engines]
    print(f"\n### Builds, median seconds of {runs} runs (client start to exit)\n")
    print("| build | " + " | ".join(names) + " | " + " | ".join(f"{n} / {shorts[0]}" for n in shorts[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(names) - 1))
    for workload, label in labels.items():
        for mode in ("cold", "cached"):
            values = [statistics.median(samples[(workload, mode, n)]) for n in names]
            ratios = [v / values[0] for v in values[1:]]
            print(f"| {label}, {mode} | " + " | ".join(f"{v:.2f}" for v in values) + " | "
                  + " | ".join(f"{r:.2f}x" for r in ratios) + " |")


def start_dockerd(work, tar):
    sock = os.path.join(work, "docker.sock")
    # Its own configuration: /etc/docker/daemon.json unread, its key kept here, not in /etc/docker.
    config = os.path.join(work, "daemon.json")
    with open(config, "w") as f:
        json.dump({"deprecated-key-path": os.path.join(work, "docker-key.json")}, f)
    log = open(os.path.join(work, "dockerd.log"), "ab")
    proc = subprocess.Popen(["dockerd", "--config-file", config, "--host", "unix://" + sock, "--data-root", os.path.join(work, "docker-data"),
                             "--exec-root", os.path.join(work, "docker-exec"), "--pidfile", os.path.join(work, "docker.pid"),
                             "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none"],
                            stdout=log, stderr=log, start_new_session=True)
    engine = DockerCLI("dockerd 20.10 (docker CLI)", "dockerd", "unix://" + sock)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dockerd exited; its log is " + os.path.join(work, "dockerd.log"))
        if os.path.exists(sock) and subprocess.run(["docker", "version"], capture_output=True, env=engine.env()).returncode == 0:
            break
        time.sleep(0.2)
    subprocess.run(["docker", "import", "-c", 'CMD ["sh"]', tar, "busybox:latest"], check=True, capture_output=True, env=engine.env())
    return proc, engine


def stop_dockerd(proc, work):
    from berth_testlib import mounts_under, processes_mentioning
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pid in processes_mentioning(os.path.join(work, "docker-")):  # its containerd and shims
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for point in sorted(mounts_under(os.path.join(work, "docker-data")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--no-buildah", action="store_true")
    parser.add_argument("--files", type=int, default=2000, help="files in the large context")
    parser.add_argument("--context-mb", type=int, default=50, help="MB of random content in the large context")
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import Daemon, binary, make_busybox_tar, mounts_under

    work = tempfile.mkdtemp(prefix="bb-", dir="/tmp")
    tar = make_busybox_tar(work)
    small = os.path.join(work, "small")
    os.makedirs(small)
    write_small(small)
    large = os.path.join(work, "context")
    os.makedirs(large)
    total = write_context(large, args.files, args.context_mb)
    daemon = Daemon()
    # The same daemon with every context unpacked on disk, shown beside (not instead).
    on_disk = Daemon(extra_args=["--build-context-memory", "0"])
    dockerd = None
    buildah = None
    system_cache = "/var/lib/containers/cache"
    cache_existed = os.path.exists(system_cache)
    # Made outside their directories by dockerd (plugins), its containerd (shim sockets) and runc.
    new_host_paths = [p for p in ("/run/docker", "/run/containerd", "/run/runc") if not os.path.exists(p)]
    try:
        daemon.start()
        daemon.import_busybox(tar)
        on_disk.start()
        on_disk.import_busybox(tar)
        engines = [DockerCLI("berthd (docker CLI)", "berthd", daemon.host),
                   BerthCLI("berthd (berth build)", "berth build", binary("berth"), daemon.host),
                   DockerCLI("berthd, contexts on disk (docker CLI)", "berthd on disk", on_disk.host)]
        if not args.no_docker and shutil.which("dockerd"):
            dockerd, engine = start_dockerd(work, tar)
            engines.append(engine)
        if not args.no_buildah and shutil.which("buildah"):
            buildah = Buildah("buildah bud --layers", "buildah", os.path.join(work, "buildah"))
            saved = os.path.join(work, "busybox-image.tar")
            subprocess.run(["docker", "save", "-o", saved, "busybox:latest"], check=True, env=engines[0].env())
            subprocess.run([*buildah.base, "pull", "docker-archive:" + saved], check=True, capture_output=True, env=buildah.env())
            engines.append(buildah)
        print(f"berth binaries: {os.environ.get('BERTH_BUILD_DIR', 'tests/lib default')}; "
              f"large context: {args.files} files, {total / 1e6:.1f} MB; engines: {', '.join(e.name for e in engines)}")
        samples = measure(engines, {"small": small, "context": large}, args.runs)
        print_table(engines, samples, args.runs, {"small": "small (7 steps)",
                                                  "context": f"{args.files} files, {total / 1e6:.0f} MB context (6 steps)"})
    finally:
        daemon.cleanup()
        on_disk.cleanup()
        if dockerd:
            stop_dockerd(dockerd, work)
        if buildah:
            subprocess.run([*buildah.base, "rm", "--all"], capture_output=True, env=buildah.env())
            subprocess.run([*buildah.base, "rmi", "--all", "--force"], capture_output=True, env=buildah.env())
            for point in sorted(mounts_under(buildah.work), key=len, reverse=True):
                subprocess.run(["umount", "-l", point], capture_output=True)
            if not cache_existed:
                shutil.rmtree(system_cache, ignore_errors=True)
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.dirname(system_cache))
        shutil.rmtree(work, ignore_errors=True)
        for path in new_host_paths:
            for root, _, _ in sorted(os.walk(path, topdown=False), key=lambda entry: -len(entry[0])):
                with contextlib.suppress(OSError):
                    os.rmdir(root)


if __name__ == "__main__":
    main()
