#!/usr/bin/env python3
"""What docker's default seccomp profile costs a container start, on Berth's runtime and on
runc, in one run on the same bundle.

    python3 benchmarks/seccomp.py [--runs N] [--bin DIR]

The profile is the one berthd sends (taken from a real container's bundle). For each runtime,
`RUNTIME run --bundle B ID` of `true` is timed without a profile and with it, interleaved (the
start time here swings by tens of ms with the kernel's cgroup work, so only paired
differences mean anything); Berth's runtime also with its compiled-filter cache emptied
before every run (the cost of compiling the profile with libseccomp, paid once per profile
and runtime root). Medians of each and of the paired differences in wall time and in CPU time (user + system
of the runtime and its children: what the filter costs, without the kernel's waits).
Timing assertions are not tests: this only prints numbers."""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))


CPU = []


def run_ms(cmd, before=None):
    """Wall time of `cmd` in ms; its CPU time (user + system, children included) goes to CPU."""
    if before:
        before()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append((after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime) * 1000)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')}")
    return elapsed * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--bin", default=None, help="directory with berthd, berth-runtime, berth-monitor (default: .build/release, else .build/debug)")
    args = parser.parse_args()
    build = args.bin or next((d for d in (os.path.join(REPO, ".build", "release"), os.path.join(REPO, ".build", "debug"))
                              if os.path.exists(os.path.join(d, "berth-runtime"))), None)
    os.environ["BERTH_BUILD_DIR"] = build
    from berth_testlib import Daemon, make_busybox_tar

    work = tempfile.mkdtemp(prefix="bench-seccomp-")
    daemon = Daemon()
    try:
        tar = make_busybox_tar(work)
        daemon.start()
        daemon.import_busybox(tar)
        cid = daemon.docker("run", "busybox", "true", check=True) and daemon.docker("ps", "-aq", "--no-trunc").stdout.decode().split()[0]
        with open(os.path.join(daemon.root, "containers", cid, "bundle", "config.json")) as f:
            engine_spec = json.load(f)
        profile = engine_spec["linux"]["seccomp"]
        rules = sum(len(r["names"]) for r in profile["syscalls"])
        bundle = os.path.join(work, "bundle")
        os.makedirs(os.path.join(bundle, "rootfs"))
        subprocess.run(["tar", "-xf", tar, "-C", os.path.join(bundle, "rootfs")], check=True)
        subprocess.run(["runc", "spec"], cwd=bundle, check=True)
        with open(os.path.join(bundle, "config.json")) as f:
            spec = json.load(f)
        spec["process"].update(terminal=False, args=["true"], rlimits=[], noNewPrivileges=False,
                               capabilities=engine_spec["process"]["capabilities"])
        berth_runtime = os.path.join(build, "berth-runtime")
        roots = {"berth": os.path.join(work, "state-berth"), "runc": os.path.join(work, "state-runc")}
        bundles = {}
        for label in ("none", "docker"):
            path = os.path.join(work, "bundle-" + label)
            shutil.copytree(bundle, path, symlinks=True)
            variant = json.loads(json.dumps(spec))
            variant["root"]["path"] = os.path.join(bundle, "rootfs")
            if label == "docker":
                variant["linux"]["seccomp"] = profile
            else:
                variant["linux"].pop("seccomp", None)
            with open(os.path.join(path, "config.json"), "w") as f:
                json.dump(variant, f)
            bundles[label] = path
        runtimes = [("berth", berth_runtime)] + ([("runc", "runc")] if shutil.which("runc") else [])
        cache = os.path.join(roots["berth"], "~seccomp")
        print(f"binaries: {build}; profile: {len(profile['syscalls'])} rules, {rules} syscall names; "
              f"{args.runs} interleaved pairs of `run` of `true` (no profile, then docker's)")
        for name, binary in runtimes:
            for cold in ((False, True) if name == "berth" else (False,)):
                plain, filtered, deltas, cpu_deltas = [], [], [], []
                for i in range(args.runs + 2):
                    def plain_run():
                        return run_ms([binary, "--root", roots[name], "run", "--bundle", bundles["none"], f"{name}n{cold:d}{i}"])

                    def filtered_run():
                        return run_ms([binary, "--root", roots[name], "run", "--bundle", bundles["docker"], f"{name}d{cold:d}{i}"],
                                      before=(lambda: shutil.rmtree(cache, ignore_errors=True)) if cold else None)
                    # Alternate which goes first, so neither pays for the other's clean-up.
                    if i % 2 == 0:
                        a, b = plain_run(), filtered_run()
                        cpu_a, cpu_b = CPU[-2], CPU[-1]
                    else:
                        b, a = filtered_run(), plain_run()
                        cpu_b, cpu_a = CPU[-2], CPU[-1]
                    if i >= 2:
                        plain.append(a)
                        filtered.append(b)
                        deltas.append(b - a)
                        cpu_deltas.append(cpu_b - cpu_a)
                label = "compiled every run" if cold else "cached filter" if name == "berth" else "docker profile"
                print(f"  {name:6} {label:20} no profile {statistics.median(plain):7.2f} ms, with {statistics.median(filtered):7.2f} ms,"
                      f" median paired difference {statistics.median(deltas):+.2f} ms wall, {statistics.median(cpu_deltas):+.2f} ms CPU")
    finally:
        daemon.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
