#!/usr/bin/env python3
"""What docker's default seccomp profile costs a container start, on Berth's runtime and on
runc, in one run on the same bundle.

    python3 benchmarks/seccomp.py [--runs N] [--bin DIR]

The profile is the one berthd sends (taken from a real container's bundle). For each runtime,
`RUNTIME run --bundle B ID` of `true` is timed without a profile and with it; Berth's runtime
also with its compiled-filter cache emptied before every run (the cost of compiling the
profile with libseccomp, paid once per profile and runtime root). Medians and differences.
Timing assertions are not tests: this only prints numbers."""
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


def run_ms(cmd, before=None):
    if before:
        before()
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')}")
    return elapsed * 1000


def median(cmd_for, runs, before=None):
    for i in range(2):
        run_ms(cmd_for(f"warm{i}"), before)
    return statistics.median(run_ms(cmd_for(f"r{i}"), before) for i in range(runs))


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
        results = {}
        for with_profile in (False, True):
            if with_profile:
                spec["linux"]["seccomp"] = profile
            else:
                spec["linux"].pop("seccomp", None)
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(spec, f)
            label = "docker profile" if with_profile else "no profile"
            results[("berth", label)] = median(
                lambda i: [berth_runtime, "--root", roots["berth"], "run", "--bundle", bundle, f"b{label[0]}{i}"], args.runs)
            if shutil.which("runc"):
                results[("runc", label)] = median(
                    lambda i: ["runc", "--root", roots["runc"], "run", "--bundle", bundle, f"r{label[0]}{i}"], args.runs)
            if with_profile:
                cache = os.path.join(roots["berth"], "~seccomp")
                results[("berth", "docker profile, compiled every run")] = median(
                    lambda i: [berth_runtime, "--root", roots["berth"], "run", "--bundle", bundle, f"bc{i}"], args.runs,
                    before=lambda: shutil.rmtree(cache, ignore_errors=True))
        print(f"binaries: {build}; profile: {len(profile['syscalls'])} rules, {rules} syscall names; "
              f"median of {args.runs} `run` of `true`")
        for (runtime, label), ms in results.items():
            base = results[(runtime, "no profile")]
            print(f"  {runtime:6} {label:38} {ms:7.2f} ms  ({ms - base:+.2f} ms)")
    finally:
        daemon.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
