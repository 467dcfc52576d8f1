"""berthd --userns-remap: containers run in a user namespace whose root is an unprivileged
host user with IDs from /etc/subuid and /etc/subgid, as with dockerd's option. Image layers
are shared and mounted idmapped (never copied or chowned); what a container writes is stored
with host IDs and mapped back by commit; `--userns=host` opts out; privileged and host-network
containers are refused as docker refuses them. The host user and its ranges are made by the
test and removed after it."""
import io
import json
import os
import pwd
import subprocess
import tarfile

import pytest

from berth_testlib import Daemon, remove_user, subordinate_user
from .conftest import RUNTIMES

TEST_USER = "berth-remap-test"
RANGE_SIZE = 65536


@pytest.fixture(scope="module")
def remap_user():
    with subordinate_user(TEST_USER, RANGE_SIZE) as start:
        yield start


def remapped_daemon(busybox_tar, remap_value):
    d = Daemon(extra_args=["--userns-remap", remap_value])
    os.chmod(d.base, 0o711)  # mkdtemp makes it 0700; docker's data roots sit under /var/lib (0755)
    d.start()
    d.import_busybox(busybox_tar)
    return d


@pytest.fixture(scope="module")
def remapped(busybox_tar, remap_user):
    d = remapped_daemon(busybox_tar, TEST_USER)
    try:
        yield d, remap_user
    finally:
        d.cleanup()


def host_ids(pid):
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines())
    return int(status["Uid"].split()[0]), int(status["Gid"].split()[0])


def run_out(daemon, *args):
    r = daemon.docker("run", "--rm", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_container_root_is_an_unprivileged_host_user(remapped, runtime):
    daemon, start = remapped
    out = run_out(daemon, "--runtime", runtime, "busybox", "sh", "-c",
                  "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u:%g /bin/busybox /etc /")
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["0", str(start), str(RANGE_SIZE)]
    assert lines[1] == ["0", str(start), str(RANGE_SIZE)]
    # Image files (shared layers, mounted idmapped) are root's inside, as without remapping.
    assert lines[2:] == [["0"], ["0"], ["0:0"], ["0:0"], ["0:0"]]


def test_processes_and_written_files_belong_to_the_subordinate_ids(remapped):
    daemon, start = remapped
    r = daemon.docker("run", "-d", "busybox", "sh", "-c", "echo x > /written; chown 1000:1000 /written; sleep 60")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.decode().strip()
    try:
        pid = json.loads(daemon.docker("inspect", cid, check=True).stdout)[0]["State"]["Pid"]
        assert host_ids(pid) == (start, start)
        upper = os.path.join(daemon.root, "snapshots", "containers", cid, "upper")
        r = daemon.docker("exec", cid, "sh", "-c", "while [ ! -s /written ]; do sleep 0.05; done; echo $$; id -u; sleep 1")
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().split()[1] == "0"
        st = os.stat(os.path.join(upper, "written"))
        assert (st.st_uid, st.st_gid) == (start + 1000, start + 1000)
        # Nothing of the container is owned by a host ID outside its ranges.
        for directory, dirs, files in os.walk(upper):
            for name in dirs + files:
                owner = os.lstat(os.path.join(directory, name)).st_uid
                assert start <= owner < start + RANGE_SIZE, (name, owner)
    finally:
        daemon.docker("rm", "-f", cid)


def test_exec_runs_in_the_user_namespace(remapped):
    daemon, start = remapped
    cid = daemon.docker("run", "-d", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    try:
        r = daemon.docker("exec", cid, "sh", "-c", "cat /proc/self/uid_map; id -u; grep ^Uid /proc/self/status")
        assert r.returncode == 0, r.stderr
        fields = r.stdout.decode().split()
        assert fields[:4] == ["0", str(start), str(RANGE_SIZE), "0"]
    finally:
        daemon.docker("rm", "-f", cid)


def test_host_root_files_are_out_of_reach(remapped):
    daemon, _ = remapped
    # Under the daemon's base (searchable by others, as a bind source must be for the
    # container's root to mount it); the file itself is host root's only.
    secret = os.path.join(daemon.base, "secret")
    with open(secret, "w") as f:
        f.write("host root only\n")
    os.chmod(secret, 0o600)
    r = daemon.docker("run", "--rm", "-v", f"{secret}:/secret", "busybox", "sh", "-c",
                      "cat /secret; echo rc=$?; echo overwritten > /secret; echo wrc=$?; mknod /disk b 8 0; echo mrc=$?")
    out = r.stdout.decode()
    assert "host root only" not in out
    assert "rc=1" in out and "wrc=1" in out and "mrc=1" in out, (out, r.stderr)
    assert open(secret).read() == "host root only\n"


def test_commit_stores_owners_as_the_container_sees_them(remapped):
    daemon, start = remapped
    name = "remap-commit"
    r = daemon.docker("run", "--name", name, "busybox", "sh", "-c",
                      "mkdir /data; echo a > /data/root-file; echo b > /data/user-file; chown 1000:2000 /data/user-file; rm /etc/group")
    assert r.returncode == 0, r.stderr
    try:
        assert daemon.docker("commit", name, "remap-committed:1").returncode == 0
        saved = daemon.docker("save", "remap-committed:1", check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))
            layer = outer.extractfile(manifest[0]["Layers"][-1]).read()
        with tarfile.open(fileobj=io.BytesIO(layer)) as inner:
            owners = {m.name: (m.uid, m.gid) for m in inner.getmembers()}
        assert owners["data/root-file"] == (0, 0)
        assert owners["data/user-file"] == (1000, 2000)
        assert owners["etc/.wh.group"] == (0, 0)
        assert all(uid < RANGE_SIZE and gid < RANGE_SIZE for uid, gid in owners.values()), owners
        # The committed image runs with the same view (its new layer is idmapped too).
        out = run_out(daemon, "remap-committed:1", "stat", "-c", "%u:%g", "/data/root-file", "/data/user-file")
        assert out.split() == ["0:0", "1000:2000"]
    finally:
        daemon.docker("rm", "-f", name)
        daemon.docker("rmi", "remap-committed:1")


def test_named_volumes_belong_to_the_container_root(remapped):
    daemon, start = remapped
    out = run_out(daemon, "-v", "remapvol:/vol", "busybox", "sh", "-c", "echo kept > /vol/f && stat -c %u /vol /vol/f")
    assert out.split() == ["0", "0"]
    st = os.stat(os.path.join(daemon.root, "volumes", "remapvol", "_data", "f"))
    assert st.st_uid == start
    # So do volumes made through the API, and anonymous ones.
    daemon.docker("volume", "create", "api-remapvol", check=True)
    out = run_out(daemon, "-v", "api-remapvol:/vol", "-v", "/anon", "busybox", "sh", "-c", "touch /vol/f /anon/f && stat -c %u /vol /anon")
    assert out.split() == ["0", "0"]
    daemon.docker("volume", "rm", "api-remapvol", check=True)
    # The etc files are the container root's to edit, as in docker.
    out = run_out(daemon, "busybox", "sh", "-c", "echo '10.0.0.9 extra' >> /etc/hosts && tail -1 /etc/hosts")
    assert out.strip() == "10.0.0.9 extra"


def test_userns_host_opts_out_and_privileged_needs_it(remapped):
    daemon, _ = remapped
    out = run_out(daemon, "--userns=host", "busybox", "cat", "/proc/self/uid_map")
    assert out.split() == ["0", "0", "4294967295"]
    r = daemon.docker("run", "--rm", "--privileged", "busybox", "true")
    assert r.returncode != 0
    assert b"privileged mode is incompatible with user namespaces" in r.stderr
    r = daemon.docker("run", "--rm", "--network", "host", "busybox", "true")
    assert r.returncode != 0
    assert b"cannot share the host's network namespace when user namespaces are enabled" in r.stderr
    out = run_out(daemon, "--privileged", "--userns=host", "busybox", "cat", "/proc/self/uid_map")
    assert out.split() == ["0", "0", "4294967295"]
    r = daemon.docker("run", "--rm", "--userns=private", "busybox", "true")
    assert r.returncode != 0
    cid = daemon.docker("create", "--userns=host", "busybox", "true", check=True).stdout.decode().strip()
    try:
        host_config = json.loads(daemon.docker("inspect", cid, check=True).stdout)[0]["HostConfig"]
        assert host_config["UsernsMode"] == "host"
    finally:
        daemon.docker("rm", "-f", cid)
    info = json.loads(daemon.docker("info", "--format", "{{json .SecurityOptions}}", check=True).stdout)
    assert "name=userns" in info


def test_a_root_that_remapped_ids_cannot_reach_is_refused(busybox_tar, remap_user):
    d = Daemon(extra_args=["--userns-remap", TEST_USER])
    try:
        os.chmod(d.base, 0o700)
        with pytest.raises(RuntimeError) as failure:
            d.start()
        assert "restricts access to the remapped root" in str(failure.value)
        assert d.base in str(failure.value)
    finally:
        d.cleanup()


def test_unknown_user_or_missing_ranges_are_refused(remap_user):
    for value, message in [("no-such-user-here", "no such user"), ("nobody", "no subordinate user IDs for nobody"),
                           (f"{TEST_USER}:", "expected default, USER, USER:GROUP, UID or UID:GID"),
                           (":x", "expected default, USER, USER:GROUP, UID or UID:GID"),
                           (f"{TEST_USER}:no-such-group-here", "no such group")]:
        d = Daemon(extra_args=["--userns-remap", value])
        try:
            os.chmod(d.base, 0o711)
            with pytest.raises(RuntimeError) as failure:
                d.start()
            assert message in str(failure.value)
        finally:
            d.cleanup()


def test_default_uses_dockremap_and_creates_it_when_missing(busybox_tar):
    existed = subprocess.run(["getent", "passwd", "dockremap"], capture_output=True).returncode == 0
    subuid_before = open("/etc/subuid").read() if os.path.exists("/etc/subuid") else ""
    subgid_before = open("/etc/subgid").read() if os.path.exists("/etc/subgid") else ""
    d = None
    try:
        d = remapped_daemon(busybox_tar, "default")
        pwd.getpwnam("dockremap")
        entry = [line.split(":") for line in open("/etc/subuid") if line.startswith("dockremap:")]
        assert entry, "no subuid range for dockremap"
        out = run_out(d, "busybox", "cat", "/proc/self/uid_map")
        assert out.split() == ["0", entry[0][1], entry[0][2].strip()]
    finally:
        if d:
            d.cleanup()
        if not existed:
            remove_user("dockremap")
            assert (open("/etc/subuid").read() if os.path.exists("/etc/subuid") else "") == subuid_before
            assert (open("/etc/subgid").read() if os.path.exists("/etc/subgid") else "") == subgid_before


def test_a_remapped_container_survives_a_daemon_kill(busybox_tar, remap_user):
    d = remapped_daemon(busybox_tar, TEST_USER)
    try:
        cid = d.docker("run", "-d", "busybox", "sh", "-c", "echo before > /f; sleep 60", check=True).stdout.decode().strip()
        pid = json.loads(d.docker("inspect", cid, check=True).stdout)[0]["State"]["Pid"]
        d.kill9()
        d.start()
        state = json.loads(d.docker("inspect", cid, check=True).stdout)[0]["State"]
        assert state["Running"] and state["Pid"] == pid
        r = d.docker("exec", cid, "sh", "-c", "cat /proc/self/uid_map; cat /f")
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().split() == ["0", str(remap_user), str(RANGE_SIZE), "before"]
        assert d.docker("restart", "-t", "1", cid).returncode == 0
        pid = json.loads(d.docker("inspect", cid, check=True).stdout)[0]["State"]["Pid"]
        assert host_ids(pid) == (remap_user, remap_user)
    finally:
        d.cleanup()


def test_cp_maps_owners_both_ways(remapped, tmp_path):
    """docker cp into a remapped container: files belong to its root (or, with -a, to the
    archive's IDs inside its range); out of it: owners as the container sees them."""
    import io
    import tarfile
    daemon, start = remapped
    name = "remap-cp"
    daemon.docker("run", "-d", "--name", name, "busybox", "sh", "-c", "echo x > /made && chown 1000:1000 /made; exec sleep 300", check=True)
    try:
        src = tmp_path / "in.txt"
        src.write_text("in\n")
        os.chown(src, 42, 43)
        assert daemon.docker("cp", str(src), f"{name}:/tmp/").returncode == 0
        assert daemon.docker("cp", "-a", str(src), f"{name}:/").returncode == 0
        out = daemon.docker("exec", name, "stat", "-c", "%u:%g", "/tmp/in.txt", "/in.txt", check=True).stdout.decode().split()
        assert out == ["0:0", "42:43"]
        cid = daemon.docker("inspect", "-f", "{{.Id}}", name, check=True).stdout.decode().strip()
        st = os.stat(os.path.join(daemon.root, "snapshots", "containers", cid, "upper", "tmp", "in.txt"))
        assert (st.st_uid, st.st_gid) == (start, start)
        r = daemon.docker("cp", f"{name}:/made", "-")
        with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
            member = tar.getmember("made")
            assert (member.uid, member.gid) == (1000, 1000)
        # export maps owners back the same way (the image's files are root's inside).
        r = daemon.docker("export", name)
        with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
            assert (tar.getmember("made").uid, tar.getmember("bin/busybox").uid) == (1000, 0)
    finally:
        daemon.docker("rm", "-f", name)


def test_remapped_containers_are_on_the_default_bridge(remapped):
    """The engine's network namespace (made in the host's user namespace) is joined before the
    container's user namespace is made: an address on the default bridge, a published port on
    127.0.0.1, another container reached by address, exec inside, docker's network sysctls set
    by the engine, and the container's root unable to reconfigure the namespace."""
    import time
    import urllib.request

    daemon, _ = remapped
    runtime = "berth"
    server = daemon.docker("run", "-d", "--runtime", runtime, "-p", "127.0.0.1::80", "busybox", "sh", "-c",
                           "echo served-remapped > /srv; httpd -f -p 80 -h /", check=True).stdout.decode().strip()
    try:
        info = json.loads(daemon.docker("inspect", server, check=True).stdout)[0]
        address = info["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        assert address, info["NetworkSettings"]
        port = info["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
        body = None
        for _ in range(50):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/srv", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        assert body == b"served-remapped\n"
        out = run_out(daemon, "--runtime", runtime, "busybox", "sh", "-c",
                      f"timeout 10 wget -qO- http://{address}/srv; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; "
                      "ip link set lo mtu 1300 2>/dev/null && echo reconfigured || echo refused")
        assert out.split("\n")[:3] == ["served-remapped", "0", "refused"], out
        r = daemon.docker("exec", server, "sh", "-c", "ip -4 -o addr show eth0; id -u")
        assert r.returncode == 0 and address.encode() in r.stdout and r.stdout.endswith(b"0\n"), r.stderr
    finally:
        daemon.docker("rm", "-f", server)


def test_with_runc_remapped_containers_stay_on_none(remapped):
    """runc 1.1 joins the user namespace first on exec, so it cannot enter a network namespace
    the engine made: with runc, the default network of a remapped container is `none` (as
    before) and an explicit bridge is refused naming the way out."""
    daemon, _ = remapped
    out = run_out(daemon, "--runtime", "runc", "busybox", "sh", "-c", "ls /sys/class/net")
    assert out.split() == ["lo"], out
    r = daemon.docker("run", "--rm", "--runtime", "runc", "--network", "bridge", "busybox", "true")
    assert r.returncode == 125 and b"--runtime berth" in r.stderr, r.stderr
