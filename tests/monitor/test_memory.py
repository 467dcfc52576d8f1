"""Memory per monitor: PSS with 20 monitors alive, each holding a created container."""
import os

from .conftest import MONITOR

COUNT = 20


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise AssertionError(f"no Pss in /proc/{pid}/smaps_rollup")


def test_pss_of_20_idle_monitors(harness):
    monitors = [harness.start_container(["sleep", "1000"]) for _ in range(COUNT)]
    for m in monitors:
        m.ok_pid()
    values = [pss_kib(m.process.pid) for m in monitors]
    average = sum(values) / len(values)
    print(f"\nberth-monitor PSS ({MONITOR}), {COUNT} running: average {average:.0f} KiB, "
          f"min {min(values)} KiB, max {max(values)} KiB")
    # Debug builds link the Swift runtime dynamically and are larger; the default limit fits
    # them. Release builds (--static-swift-stdlib) are checked with BERTH_MONITOR_PSS_LIMIT_KIB.
    limit = int(os.environ.get("BERTH_MONITOR_PSS_LIMIT_KIB", "2048"))
    assert average < limit
