"""Bundles that runc runs and Berth's runtime once refused or mishandled: a seccomp profile
that denies what the runtime itself does after loading it, memory swappiness and the OOM
killer switch, failing poststart/poststop hooks (warnings), every rootfsPropagation value,
`create --pid-file`, and the session keyring. Each runs on both runtimes."""
import json
import os
import subprocess

import pytest


def test_a_profile_denying_what_the_runtime_uses_before_execve(runtime):
    container_id, bundle = runtime.new_bundle(["true"])
    # faccessat2 (which older profiles lack), stat and openat are used by runtimes to find the
    # command and to open the exec fifo; a filter installed last is not bothered by them.
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["faccessat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not os.path.exists("/sys/fs/cgroup/memory/memory.swappiness"), reason="needs cgroup v1 memory")
def test_memory_swappiness_and_disabled_oom_killer(runtime):
    container_id, bundle = runtime.new_bundle(["sleep", "60"])
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 64 << 20, "swappiness": 7, "disableOOMKiller": True}
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    cgroup = "/sys/fs/cgroup/memory" + bundle.linux["cgroupsPath"]
    try:
        assert open(cgroup + "/memory.swappiness").read().strip() == "7"
        assert "oom_kill_disable 1" in open(cgroup + "/memory.oom_control").read()
    finally:
        runtime.cmd("delete", "--force", container_id)


def test_failing_poststart_and_poststop_hooks_are_warnings(runtime):
    if runtime.name == "runc":
        pytest.skip("runc 1.1 runs poststart hooks inside create and fails it, against the spec")
    container_id, bundle = runtime.new_bundle(["sleep", "60"])
    bundle.config["hooks"] = {
        "poststart": [{"path": "/bin/false", "args": ["false"]}],
        "poststop": [{"path": "/bin/false", "args": ["false"]}],
    }
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    assert runtime.cmd("start", container_id).returncode == 0
    assert runtime.state(container_id)["status"] == "running"
    assert runtime.cmd("delete", "--force", container_id).returncode == 0
    assert runtime.cmd("state", container_id).returncode != 0


@pytest.mark.parametrize("propagation", ["shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate"])
def test_every_rootfs_propagation_the_spec_names(runtime, propagation):
    if runtime.name == "runc" and propagation == "unbindable":
        pytest.skip("runc 1.1 makes the rootfs unbindable before binding it, and fails (EINVAL)")
    container_id, bundle = runtime.new_bundle(["true"])
    bundle.linux["rootfsPropagation"] = propagation
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, (propagation, result.stderr)


def test_an_unknown_rootfs_propagation_is_refused(runtime):
    container_id, bundle = runtime.new_bundle(["true"])
    bundle.linux["rootfsPropagation"] = "sideways"
    assert runtime.run(bundle, container_id).returncode != 0


def test_create_writes_the_pid_file(runtime):
    container_id, bundle = runtime.new_bundle(["sleep", "60"])
    pid_file = os.path.join(bundle.path, "init.pid")
    result, out, err = runtime.create(bundle, container_id, "--pid-file", pid_file)
    assert result.returncode == 0, open(err).read()
    assert int(open(pid_file).read()) == runtime.state(container_id)["pid"]
    runtime.cmd("delete", "--force", container_id)


def test_no_new_keyring_keeps_the_callers_keyring(runtime, tmp_path):
    probe = tmp_path / "probe"
    subprocess.run(["gcc", "-static", "-O1", "-o", str(probe),
                    os.path.join(os.path.dirname(__file__), "..", "lib", "probe.c")], check=True)
    host = subprocess.run([str(probe), "session-keyring"], capture_output=True, text=True).stdout.split()[-1]
    serials = {}
    for extra in ((), ("--no-new-keyring",)):
        container_id, bundle = runtime.new_bundle(["/probe", "session-keyring"])
        bundle.config["mounts"].append({"destination": "/probe", "type": "bind", "source": str(probe), "options": ["bind", "ro"]})
        bundle.write()
        runtime.created.append(container_id)
        result = runtime.cmd("run", *extra, "--bundle", bundle.path, container_id)
        assert result.returncode == 0, result.stderr
        serials[extra] = result.stdout.split()[-1]
    assert serials[()] != host
    assert serials[("--no-new-keyring",)] == host


def userns_bundle(runtime, args, network=True):
    container_id, bundle = runtime.new_bundle(args)
    namespaces = [n for n in bundle.linux["namespaces"] if n["type"] not in ("user", "network")]
    namespaces.append({"type": "user"})
    if network:
        namespaces.append({"type": "network"})
    bundle.linux["namespaces"] = namespaces
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    # The mapped root is host uid 100000: the bundle's path must be searchable by it (pytest
    # makes its directories 0700), as runc's own tests arrange.
    path = bundle.path
    while path not in ("/", "/tmp"):
        os.chmod(path, os.stat(path).st_mode | 0o111)
        path = os.path.dirname(path)
    return container_id, bundle


@pytest.mark.parametrize("network", [True, False])
def test_a_user_namespace_with_id_mappings(runtime, network):
    if runtime.name == "runc" and not network:
        pytest.skip("runc 1.1 does not fall back to binding /sys when sysfs may not be mounted")
    container_id, bundle = userns_bundle(runtime, ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; "
                                                               "cat /dev/null && echo null-ok; ls /sys/kernel >/dev/null && echo sys-ok"],
                                         network=network)
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["0", "100000", "65536"]
    assert lines[1] == ["0", "100000", "65536"]
    assert lines[2:6] == [["0"], ["0"], ["null-ok"], ["sys-ok"]]


def test_user_namespace_processes_are_unprivileged_on_the_host(runtime):
    container_id, bundle = userns_bundle(runtime, ["sleep", "60"])
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    try:
        pid = runtime.state(container_id)["pid"]
        status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines())
        assert status["Uid"].split()[:2] == ["100000", "100000"]
        assert status["Gid"].split()[:2] == ["100000", "100000"]
        # exec joins the user namespace too: not host root.
        r = runtime.cmd("exec", container_id, "sh", "-c", "cat /proc/self/uid_map; id -u")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["0", "100000", "65536", "0"]
    finally:
        runtime.cmd("delete", "--force", container_id)


def test_a_user_namespace_without_mappings_is_refused(runtime):
    container_id, bundle = userns_bundle(runtime, ["true"])
    del bundle.linux["uidMappings"]
    assert runtime.run(bundle, container_id).returncode != 0


def test_joining_an_existing_user_namespace_by_path(runtime):
    holder_id, holder = userns_bundle(runtime, ["sleep", "60"])
    result, out, err = runtime.create(holder, holder_id)
    assert result.returncode == 0, open(err).read()
    try:
        holder_pid = runtime.state(holder_id)["pid"]
        container_id, bundle = userns_bundle(runtime, ["sh", "-c", "cat /proc/self/uid_map; id -u; sleep 60"])
        bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "user"] + [
            {"type": "user", "path": f"/proc/{holder_pid}/ns/user"}]
        # The mappings stay in the spec: runc 1.1 requires them even when joining (they match).
        result, out, err = runtime.create(bundle, container_id)
        assert result.returncode == 0, open(err).read()
        pid = runtime.state(container_id)["pid"]
        assert os.readlink(f"/proc/{pid}/ns/user") == os.readlink(f"/proc/{holder_pid}/ns/user")
        assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink(f"/proc/{holder_pid}/ns/pid")
        status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines())
        assert status["Uid"].split()[0] == "100000"
        assert runtime.cmd("start", container_id).returncode == 0
        runtime.cmd("delete", "--force", container_id)
    finally:
        runtime.cmd("delete", "--force", holder_id)


def without_mount_namespace(runtime, args):
    """A bundle with no mount namespace and nothing to mount, mask or make read-only."""
    container_id, bundle = runtime.new_bundle(args)
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "mount"]
    bundle.config["mounts"] = []
    for key in ("maskedPaths", "readonlyPaths"):
        bundle.linux.pop(key, None)
    bundle.config["root"]["readonly"] = False
    with open(os.path.join(bundle.rootfs, "marker"), "w") as f:
        f.write("in the rootfs\n")
    return container_id, bundle


def test_without_a_mount_namespace_the_callers_is_inherited(runtime):
    """config-linux.md: an unlisted namespace is inherited, the mount namespace included; the
    process still sees the bundle's rootfs as `/` (chroot), and exec is put there too."""
    container_id, bundle = without_mount_namespace(runtime, ["sleep", "60"])
    # runc needs /proc inside the root to close inherited descriptors; nothing may be mounted
    # for the container, so the test binds the host's /proc there itself (and removes it).
    proc = os.path.join(bundle.rootfs, "proc")
    subprocess.run(["mount", "--rbind", "/proc", proc], check=True)
    mounts_before = open("/proc/self/mountinfo").read().count("\n")
    try:
        result, out, err = runtime.create(bundle, container_id)
        assert result.returncode == 0, open(err).read()
        pid = runtime.state(container_id)["pid"]
        assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
        assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
        assert os.path.realpath(f"/proc/{pid}/root") == os.path.realpath(bundle.rootfs)
        assert runtime.cmd("start", container_id).returncode == 0
        r = runtime.cmd("exec", container_id, "cat", "/marker")
        if runtime.name == "berth-runtime":  # runc 1.1's exec stays in the caller's root
            assert r.returncode == 0, r.stderr
            assert r.stdout == "in the rootfs\n"
            assert open("/proc/self/mountinfo").read().count("\n") == mounts_before
    finally:
        runtime.cmd("delete", "--force", container_id)
        # runc 1.1 binds the rootfs onto itself in the caller's namespace and leaves it there.
        unmount_everything_under(bundle.path)


def unmount_everything_under(path):
    """Detaches every mount at or below `path` (top-most first, so covered ones surface)."""
    for _ in range(16):
        points = [line.split()[4] for line in open("/proc/self/mountinfo")]
        under = [p for p in points if p == path or p.startswith(path + "/")]
        if not under:
            return
        subprocess.run(["umount", "-l", under[-1]], check=False, capture_output=True)
    raise AssertionError("mounts left under %s" % path)


@pytest.mark.parametrize("field", ["mounts", "maskedPaths", "readonlyPaths", "devices", "readonly", "rootfsPropagation"])
def test_without_a_mount_namespace_nothing_is_mounted_on_the_host(runtime, field):
    if runtime.name == "runc" and field in ("mounts", "devices", "readonly", "rootfsPropagation"):
        pytest.skip("runc 1.1 mounts such entries in the caller's namespace or ignores them")
    container_id, bundle = without_mount_namespace(runtime, ["true"])
    if field == "mounts":
        bundle.config["mounts"] = [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]
    elif field == "devices":
        bundle.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
    elif field == "readonly":
        bundle.config["root"]["readonly"] = True
    elif field == "rootfsPropagation":
        bundle.linux["rootfsPropagation"] = "shared"
    else:
        bundle.linux[field] = ["/proc/kcore"]
    mounts_before = open("/proc/self/mountinfo").read()
    result = runtime.run(bundle, container_id)
    assert result.returncode != 0
    assert open("/proc/self/mountinfo").read() == mounts_before
    if runtime.name == "berth-runtime":
        assert "mount namespace" in result.stderr, result.stderr


def test_oom_score_adj_in_a_user_namespace(runtime):
    """Init is not dumpable, so inside a user namespace it cannot write its own
    oom_score_adj: the runtime sets it from outside."""
    container_id, bundle = userns_bundle(runtime, ["cat", "/proc/self/oom_score_adj"])
    bundle.process["oomScoreAdj"] = 123
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "123"
