"""A default container is at least as confined as a default docker container: docker's
seccomp profile (adjusted by --cap-add, replaced by --security-opt seccomp=…, dropped by
--privileged), a session keyring of its own, and masked /proc files. Each probe runs on
Berth's runtime and on runc, which get the same bundle."""
import json
import os
import shutil
import subprocess
import tarfile
import time

import pytest

from berth_testlib import probe_results, probe_values
from .conftest import RUNTIMES

DENIED_BY_DEFAULT = ["unshare-user", "add-key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "kexec_load"]


def probe_in(daemon, runtime, probe, *attempts, options=()):
    r = daemon.docker("run", "--rm", "--runtime", runtime, "-v", f"{probe}:/probe:ro", *options,
                      "busybox", "/probe", *attempts)
    assert r.returncode == 0, r.stderr
    return probe_results(r.stdout)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_profile_is_loaded(daemon, runtime):
    r = daemon.docker("run", "--rm", "--runtime", runtime, "busybox", "grep", "^Seccomp", "/proc/self/status")
    fields = dict(line.split(":\t") for line in r.stdout.decode().splitlines())
    assert fields["Seccomp"] == "2"
    assert fields["Seccomp_filters"] == "1"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_profile_refuses_what_docker_refuses(daemon, runtime, probe):
    results = probe_in(daemon, runtime, probe, "clone-user", "clone3", *DENIED_BY_DEFAULT)
    for attempt in ["clone-user"] + DENIED_BY_DEFAULT:
        assert results[attempt] == "EPERM", (attempt, results)
    # ENOSYS, so glibc falls back to clone, whose flags the filter can see.
    assert results["clone3"] == "ENOSYS"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cap_add_sys_admin_widens_the_profile_as_dockers_does(daemon, runtime, probe):
    results = probe_in(daemon, runtime, probe, "clone3", "unshare-user", options=("--cap-add", "SYS_ADMIN"))
    # clone3 reaches the kernel (which refuses the NULL argument); a user namespace is made.
    assert results["clone3"] in ("EFAULT", "EINVAL"), results
    assert results["unshare-user"] == "ok", results


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_unconfined_and_privileged_have_no_filter(daemon, runtime, probe):
    for options in (("--security-opt", "seccomp=unconfined"), ("--privileged",)):
        r = daemon.docker("run", "--rm", "--runtime", runtime, *options, "busybox", "grep", "^Seccomp:", "/proc/self/status")
        assert r.stdout.split()[-1] == b"0", options
    results = probe_in(daemon, runtime, probe, "unshare-user", options=("--security-opt", "seccomp=unconfined"))
    assert results["unshare-user"] == "ok"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_profile_from_a_file(daemon, runtime, tmp_path):
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    r = daemon.docker("run", "--rm", "--runtime", runtime, "--security-opt", f"seccomp={path}", "busybox",
                      "sh", "-c", "exec 2>&1; mkdir /tmp/x; echo done")
    assert b"Permission denied" in r.stdout, r.stdout
    assert b"done" in r.stdout
    r = daemon.berth("run", "--rm", "--runtime", runtime, "--security-opt", f"seccomp={path}", "busybox",
                     "sh", "-c", "exec 2>&1; mkdir /tmp/x; echo done")
    assert b"Permission denied" in r.stdout, r.stdout


def test_a_profile_that_denies_what_the_runtime_uses_after_loading_it(daemon, tmp_path):
    # Everything the runtime does between the filter and execve is allowed by this profile:
    # stat, faccessat2, openat of the exec fifo are not, and must not matter.
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["faccessat2", "faccessat", "access", "newfstatat", "stat", "statx", "openat", "open",
                                "write", "getcwd", "chdir"], "action": "SCMP_ACT_ERRNO"}],
    }
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    r = daemon.docker("run", "--rm", "--security-opt", f"seccomp={path}", "busybox", "true")
    assert r.returncode == 0, r.stderr


def test_bad_profiles_are_refused_at_create(daemon, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [')
    before = daemon.docker("ps", "-aq").stdout
    r = daemon.docker("create", "--security-opt", f"seccomp={path}", "busybox", "true")
    assert r.returncode != 0
    assert b"seccomp" in r.stderr
    r = daemon.docker("create", "--security-opt", "seccomp=/nonexistent.json", "busybox", "true")
    assert r.returncode != 0
    r = daemon.docker("create", "--security-opt", "bogus=1", "busybox", "true")
    assert r.returncode != 0
    assert b"security-opt" in r.stderr
    assert daemon.docker("ps", "-aq").stdout == before


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_container_has_its_own_session_keyring(daemon, runtime, probe):
    # The daemon's session keyring is the test's (berthd inherits it); keyctl needs the filter
    # off, as the default profile refuses it.
    host = probe_values(subprocess.run([probe, "session-keyring"], capture_output=True).stdout)["session-keyring"]
    serials = []
    for _ in range(2):
        r = daemon.docker("run", "--rm", "--runtime", runtime, "-v", f"{probe}:/probe:ro",
                          "--security-opt", "seccomp=unconfined", "busybox", "/probe", "session-keyring")
        assert r.returncode == 0, r.stderr
        serials.append(probe_values(r.stdout)["session-keyring"])
    first, second = serials
    assert first != host
    assert second != host
    assert first != second


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_proc_interrupts_is_masked(daemon, runtime):
    r = daemon.docker("run", "--rm", "--runtime", runtime, "busybox", "sh", "-c", "cat /proc/interrupts | wc -c")
    assert r.stdout.strip() == b"0"


# Nodes the host itself can open (checked by the probe on the host) and no default container
# may: a block device (loop0, 7:0) and a character device (loop-control, 10:237).
HOST_DEVICES = [("b", 7, 0), ("c", 10, 237)]


def host_can_open(probe, kind, major, minor, tmp_path):
    node = tmp_path / f"node-{kind}"
    subprocess.run(["mknod", str(node), kind, str(major), str(minor)], check=True)
    try:
        return probe_results(subprocess.run([probe, f"open={node}"], capture_output=True).stdout)[f"open={node}"] == "ok"
    finally:
        node.unlink()


def widen_v1_device_cgroup(container_id):
    """Allows every device in the container's v1 devices cgroup, so only the cgroup-v2 eBPF
    filter (attached on /sys/fs/cgroup/unified) stands between the container and the disk:
    the pure-v2 situation, on this hybrid machine."""
    path = f"/sys/fs/cgroup/devices/berth/{container_id}/devices.allow"
    with open(path, "w") as f:
        f.write("a *:* rwm")


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/unified") or not os.path.isdir("/sys/fs/cgroup/devices"),
                    reason="needs the hybrid cgroup layout")
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_cgroup2_device_filter_alone_keeps_host_devices_out(daemon, runtime, probe, tmp_path):
    for kind, major, minor in HOST_DEVICES:
        assert host_can_open(probe, kind, major, minor, tmp_path)
    nodes = " && ".join(f"mknod /tmp/{kind} {kind} {major} {minor}" for kind, major, minor in HOST_DEVICES)
    r = daemon.docker("run", "-d", "--runtime", runtime, "-v", f"{probe}:/probe:ro", "busybox", "sh", "-c",
                      f"{nodes} && sleep 600")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.decode().strip()
    attempts = [f"open=/tmp/{kind}" for kind, _, _ in HOST_DEVICES]
    try:
        for _ in range(50):
            if daemon.docker("exec", cid, "test", "-c", "/tmp/c").returncode == 0:
                break
            time.sleep(0.1)
        before = probe_results(daemon.docker("exec", cid, "/probe", *attempts).stdout)
        assert all(before[a] == "EPERM" for a in attempts), before
        widen_v1_device_cgroup(cid)
        after = probe_results(daemon.docker("exec", cid, "/probe", *attempts).stdout)
        if runtime == "berth":
            assert all(after[a] == "EPERM" for a in attempts), after
        else:
            # Control: runc applies no v2 filter on a hybrid machine, so the widened v1 rules
            # let the opens through: the probe does see the difference.
            assert all(after[a] == "ok" for a in attempts), after
    finally:
        daemon.docker("rm", "-f", cid)


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/unified"), reason="needs a cgroup2 hierarchy")
def test_a_device_node_shipped_in_an_image_is_unusable(daemon, busybox_tar, probe, tmp_path):
    image = tmp_path / "with-disk.tar"
    shutil.copy(busybox_tar, image)
    with tarfile.open(image, "a") as t:
        node = tarfile.TarInfo("disk")
        node.type = tarfile.BLKTYPE
        node.devmajor, node.devminor = HOST_DEVICES[0][1:]
        node.mode = 0o666
        t.addfile(node)
    with open(image, "rb") as f:
        r = daemon.docker("import", "-", "with-disk:latest", input=f.read())
    assert r.returncode == 0, r.stderr
    try:
        r = daemon.docker("run", "-d", "-v", f"{probe}:/probe:ro", "with-disk", "sleep", "600")
        cid = r.stdout.decode().strip()
        assert daemon.docker("exec", cid, "test", "-b", "/disk").returncode == 0
        widen_v1_device_cgroup(cid)
        results = probe_results(daemon.docker("exec", cid, "/probe", "open=/disk").stdout)
        assert results["open=/disk"] == "EPERM"
        daemon.docker("rm", "-f", cid)
    finally:
        daemon.docker("rmi", "-f", "with-disk:latest")
