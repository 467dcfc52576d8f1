#!/usr/bin/env python3
"""What bridge networking adds to a start: `berth run --rm busybox true` with `--network none`
and with `--network bridge` (a namespace made and wired by berthd, a veth pair, an address),
and with a published port (`-p`, one nftables transaction more), interleaved run by run on one
daemon, medians.

    python3 benchmarks/network.py [--bin DIR] [--runs N]

Timing assertions are not tests: this only prints numbers."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=None, help="directory with berth, berthd, berth-runtime, berth-monitor")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if args.bin:
        os.environ["BERTH_BUILD_DIR"] = os.path.abspath(args.bin)
    from berth_testlib import Daemon, binary, make_busybox_tar
    tar = make_busybox_tar(tempfile.mkdtemp())
    daemon = Daemon()
    daemon.start()
    try:
        daemon.import_busybox(tar)
        berth = [binary("berth"), "-H", daemon.host, "run", "--rm"]
        variants = {
            "--network none": ["--network", "none"],
            "--network bridge": ["--network", "bridge"],
            "--network bridge -p 0:80 (random host port)": ["--network", "bridge", "-p", "80"],
        }
        samples = {name: [] for name in variants}
        for _ in range(3):
            for extra in variants.values():
                subprocess.run(berth + extra + ["busybox", "true"], check=True, capture_output=True)
        for i in range(args.runs):
            order = list(variants.items())
            if i % 2:
                order.reverse()
            for name, extra in order:
                started = time.perf_counter()
                subprocess.run(berth + extra + ["busybox", "true"], check=True, capture_output=True)
                samples[name].append((time.perf_counter() - started) * 1000)
        base = statistics.median(samples["--network none"])
        print("| `berth run --rm busybox true` | median ms | added to none |")
        print("|---|---:|---:|")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"| {name} | {median:.1f} | {median - base:+.1f} |")
    finally:
        daemon.cleanup()


if __name__ == "__main__":
    main()
