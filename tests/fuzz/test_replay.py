"""Every fuzz seed and every input that once crashed a parser (fuzz/regressions/<target>/)
goes through its target again, in the normal build's replay driver: none may crash."""
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BERTH_BUILD_DIR", os.path.join(REPO, ".build", "debug"))
TARGETS = ["layer", "image-json", "api", "registry", "docker-archive", "seccomp"]


def inputs(target):
    files = []
    for kind in ("seeds", "regressions"):
        directory = os.path.join(REPO, "fuzz", kind, target)
        if os.path.isdir(directory):
            files += [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
    return files


@pytest.mark.parametrize("target", TARGETS)
def test_seeds_and_regressions_replay_cleanly(target):
    files = inputs(target)
    assert files, f"fuzz/seeds/{target} is empty"
    r = subprocess.run([os.path.join(BUILD, "berth-fuzz"), target, *files], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def test_an_unknown_target_is_a_usage_error():
    r = subprocess.run([os.path.join(BUILD, "berth-fuzz"), "nonsense", "/dev/null"], capture_output=True)
    assert r.returncode == 2
    assert b"usage" in r.stderr
