#!/usr/bin/env python3
"""What `berthd --userns-remap` costs a container start, in one run on one daemon.

    python3 benchmarks/userns.py [--runs N] [--layers N] [--bin DIR]

A daemon runs with --userns-remap for a temporary user (made with 65536 subordinate IDs and
removed after). `berth run --rm IMAGE true` is timed in a user namespace (its layers mounted
idmapped: one open_tree + mount_setattr per layer) and with `--userns=host`, interleaved,
for the busybox image and for an image of N layers; medians of each and of the paired
differences are printed. Timing assertions are not tests: this only prints numbers."""
import argparse
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


def timed(cmd):
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import Daemon, binary, make_busybox_tar, subordinate_user

    work = tempfile.mkdtemp(prefix="bu-", dir="/tmp")
    with subordinate_user("berth-remap-bench", 65536):
        daemon = Daemon(extra_args=["--userns-remap", "berth-remap-bench"])
        os.chmod(daemon.base, 0o711)
        try:
            tar = make_busybox_tar(work)
            daemon.start()
            daemon.import_busybox(tar)
            berth = [binary("berth"), "-H", daemon.host]
            image = "busybox"
            for layer in range(args.layers - 1):
                name = f"bench-layer-{layer}"
                subprocess.run(berth + ["run", "--name", name, image, "sh", "-c", f"echo {layer} > /layer-{layer}"], check=True, capture_output=True)
                image = f"bench-layers:{layer}"
                subprocess.run(berth + ["commit", name, image], check=True, capture_output=True)
                subprocess.run(berth + ["rm", name], check=True, capture_output=True)
            print(f"# berth run --rm IMAGE true, median of {args.runs} interleaved pairs (ms)")
            for label, name in [("busybox (1 layer)", "busybox"), (f"{args.layers} layers", image)]:
                for _ in range(2):
                    timed(berth + ["run", "--rm", name, "true"])
                    timed(berth + ["run", "--rm", "--userns=host", name, "true"])
                remapped, host, differences = [], [], []
                for _ in range(args.runs):
                    a = timed(berth + ["run", "--rm", name, "true"])
                    b = timed(berth + ["run", "--rm", "--userns=host", name, "true"])
                    remapped.append(a)
                    host.append(b)
                    differences.append(a - b)
                print(f"{label:20s} remapped {statistics.median(remapped):7.1f}   --userns=host {statistics.median(host):7.1f}"
                      f"   paired difference {statistics.median(differences):+6.1f}")
        finally:
            daemon.cleanup()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
