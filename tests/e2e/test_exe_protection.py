"""CVE-2019-5736: a container must never be able to write the binary of a Berth process that
enters it. Those processes run from read-only copies, so even root in the container (or on
the host, through the process's /proc/PID/exe) gets EROFS."""
import errno
import os
import subprocess
import time

import pytest

from berth_testlib import probe_values
from .conftest import RUNTIMES


def monitor_of(cid):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"berth-monitor") and cid.encode() in b" ".join(cmdline):
            return int(entry), [c.decode() for c in cmdline]
    raise AssertionError(f"no monitor for {cid}")


def assert_read_only(path):
    with pytest.raises(OSError) as caught:
        os.close(os.open(path, os.O_WRONLY))
    assert caught.value.errno == errno.EROFS, (path, caught.value)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_monitor_and_runtime_run_from_read_only_copies(daemon, runtime):
    cid = daemon.docker("run", "-d", "--runtime", runtime, "busybox", "sleep", "600").stdout.decode().strip()
    try:
        pid, cmdline = monitor_of(cid)
        # Through the link a container could reach: on a read-only mount, so not writable even
        # once the text is no longer busy (while it runs, the kernel answers ETXTBSY first).
        assert os.statvfs(f"/proc/{pid}/exe").f_flag & os.ST_RDONLY
        assert os.readlink(f"/proc/{pid}/exe").startswith(os.path.join(daemon.root, "bin") + "/")
        if runtime == "berth":
            runtime_path = cmdline[cmdline.index("--runtime") + 1]
            assert runtime_path.startswith(os.path.join(daemon.root, "bin") + "/")
            assert os.statvfs(runtime_path).f_flag & os.ST_RDONLY
            assert_read_only(runtime_path)
    finally:
        daemon.docker("rm", "-f", cid)


def test_the_exe_swap_during_exec_reaches_no_writable_binary(daemon, probe):
    # The container swaps /x between a harmless command and /proc/self/exe while execs run,
    # and hunts for Berth's executables in its /proc to open them for writing.
    cid = daemon.docker("run", "-d", "-v", f"{probe}:/probe:ro", "--security-opt", "seccomp=unconfined", "busybox", "sh", "-c",
                        "printf '#!/bin/true\\n' > /t; chmod +x /t; while true; do ln -sf /t /x; ln -sf /proc/self/exe /x; done").stdout.decode().strip()
    try:
        attack = subprocess.Popen(["docker", "exec", cid, "/probe", "exe-attack=4"], stdout=subprocess.PIPE,
                                  env=dict(os.environ, DOCKER_HOST=daemon.host))
        # (A link straight to busybox would run the applet "x", which does not exist: the
        # harmless command is a script whose interpreter is /bin/true.)
        outcomes = set()
        deadline = time.time() + 3
        while time.time() < deadline or (0 not in outcomes and time.time() < deadline + 20):
            r = daemon.docker("exec", cid, "/x")
            outcomes.add(r.returncode)
        out, _ = attack.communicate(timeout=30)
        values = probe_values(out)
        assert values["exe-writable"] == 0, values
        assert 0 in outcomes, outcomes
        assert daemon.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == b"running"
    finally:
        daemon.docker("rm", "-f", cid)


def test_the_read_only_copies_are_unmounted_when_the_daemon_stops(fresh_daemon):
    from berth_testlib import mounts_under
    binaries = os.path.join(fresh_daemon.root, "bin")
    assert mounts_under(binaries) == [binaries]
    fresh_daemon.stop()
    assert mounts_under(binaries) == []
    # kill -9 leaves it; the next start detaches it and mounts fresh copies once.
    fresh_daemon.start()
    fresh_daemon.kill9()
    assert mounts_under(binaries) == [binaries]
    fresh_daemon.start()
    assert mounts_under(binaries) == [binaries]
