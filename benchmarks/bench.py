#!/usr/bin/env python3
"""Berth's speed and memory benchmarks, run side by side with whatever other engines are
installed here (docker/dockerd, podman, bare runc), on the same busybox image, in one run.

    python3 benchmarks/bench.py [--runs N] [--containers N] [--bin DIR] [--with-docker]

- start: `berth run --rm busybox true` through berthd, client start to client exit; the same
  with the docker CLI against berthd; `docker run` / `podman run` when installed; bare
  `runc run` on an OCI bundle (the floor an engine adds to). Medians and ratios.
- memory: PSS of all engine processes (berthd + monitors) with N `sleep` containers up,
  minus idle, divided by N; berthd's RSS freshly started and idle after the latency runs.

`--with-docker` installs Debian's docker.io, starts dockerd on its own socket and data root,
and stops it afterwards. Timing assertions are not tests: this only prints numbers."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))


def timed(cmd, env=None):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')}")
    return elapsed


def median_ms(cmd, runs, env=None, warmup=2):
    for _ in range(warmup):
        timed(cmd, env)
    return statistics.median(timed(cmd, env) for _ in range(runs)) * 1000


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pids_named(name, mentioning=None):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]).decode(errors="replace") == name:
            if mentioning is None or any(mentioning.encode() in a for a in argv):
                out.append(int(entry))
    return out


def runc_bundle(rootfs_tar, base):
    bundle = os.path.join(base, "bundle")
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(rootfs)
    subprocess.run(["tar", "-xf", rootfs_tar, "-C", rootfs], check=True)
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    spec["process"]["rlimits"] = []
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"] + [{"type": "network"}]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    parser.add_argument("--with-docker", action="store_true")
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import Daemon, binary, make_busybox_tar

    work = tempfile.mkdtemp(prefix="bb-", dir="/tmp")
    results = {}
    daemon = Daemon()
    try:
        tar = make_busybox_tar(work)
        daemon.start()
        time.sleep(0.5)
        fresh_rss = rss_kib(daemon.proc.pid)
        daemon.import_busybox(tar)
        berth = [binary("berth"), "-H", daemon.host]
        env = dict(os.environ, DOCKER_HOST=daemon.host)

        print(f"# start latency, median of {args.runs} (ms)")
        results["berth run (berth runtime)"] = median_ms(berth + ["run", "--rm", "--network", "none", "busybox", "true"], args.runs)
        results["berth run (runc runtime)"] = median_ms(berth + ["run", "--rm", "--runtime", "runc", "busybox", "true"], args.runs)
        if shutil.which("docker"):
            results["docker CLI -> berthd"] = median_ms(["docker", "run", "--rm", "busybox", "true"], args.runs, env=env)
        bundle = runc_bundle(tar, work)
        counter = iter(range(10**6))
        if shutil.which("runc"):
            results["bare runc run"] = median_ms_fn(lambda: ["runc", "--root", os.path.join(work, "runc-state"), "run", "--bundle", bundle, f"b{next(counter)}"], args.runs)
        results["bare berth-runtime run"] = median_ms_fn(lambda: [binary("berth-runtime"), "--root", os.path.join(work, "br-state"), "run", "--bundle", bundle, f"b{next(counter)}"], args.runs)
        if args.with_docker:
            results.update(docker_start_latency(tar, work, args.runs))
        if shutil.which("podman"):
            try:
                subprocess.run(["podman", "import", tar, "bench-busybox"], check=True, capture_output=True)
                results["podman run"] = median_ms(["podman", "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000", "bench-busybox", "true"], args.runs)
            except (RuntimeError, subprocess.CalledProcessError) as e:
                print(f"podman: not measured ({e})")
        base = results["berth run (berth runtime)"]
        for name, ms in results.items():
            print(f"{name:32s} {ms:8.1f} ms   {ms / base:5.2f}x berth")

        print(f"\n# memory with {args.containers} running containers")
        berthd_pid = daemon.proc.pid
        idle_rss = rss_kib(berthd_pid)
        idle = pss_kib([berthd_pid] + pids_named("berth-monitor", daemon.base))
        ids = []
        for _ in range(args.containers):
            r = subprocess.run(berth + ["run", "-d", "busybox", "sleep", "3600"], capture_output=True, check=True)
            ids.append(r.stdout.decode().strip())
        time.sleep(1)
        monitors = pids_named("berth-monitor", daemon.base)
        busy = pss_kib([berthd_pid] + monitors)
        per = (busy - idle) / args.containers
        print(f"berthd RSS, freshly started      {fresh_rss / 1024:8.1f} MiB")
        print(f"berthd RSS, idle after the runs  {idle_rss / 1024:8.1f} MiB")
        print(f"monitors running                 {len(monitors):8d}")
        print(f"engine PSS idle -> busy          {idle / 1024:8.1f} -> {busy / 1024:.1f} MiB")
        print(f"engine memory per container      {per / 1024:8.2f} MiB")
        subprocess.run(berth + ["rm", "-f", *ids], capture_output=True)
    finally:
        daemon.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def median_ms_fn(make_cmd, runs, warmup=2):
    for _ in range(warmup):
        timed(make_cmd())
    return statistics.median(timed(make_cmd()) for _ in range(runs)) * 1000


def docker_start_latency(tar, work, runs):
    """Installs Debian's docker.io if needed, runs dockerd on a private socket, measures, stops it."""
    if not shutil.which("dockerd"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "docker.io"], check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    sock = os.path.join(work, "docker.sock")
    data = os.path.join(work, "docker-data")
    proc = subprocess.Popen(["dockerd", "--host", "unix://" + sock, "--data-root", data, "--exec-root", os.path.join(work, "docker-exec"),
                             "--pidfile", os.path.join(work, "docker.pid"), "--bridge", "none", "--iptables=false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DOCKER_HOST="unix://" + sock)
    try:
        for _ in range(100):
            if subprocess.run(["docker", "version"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        subprocess.run(["docker", "import", tar, "bench-busybox"], env=env, check=True, capture_output=True)
        return {"docker run (dockerd, --network none)": median_ms(["docker", "run", "--rm", "--network", "none", "bench-busybox", "true"], runs, env=env)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
