"""`docker cp` against berthd (GET/HEAD/PUT /containers/{id}/archive): both ways, running and
stopped containers, into volumes and bind mounts, owners (`-a`), docker's stat header, and
hostile input: links in the container that point at host paths (absolute and `..`), tars
with `../` and absolute entries, a directory replaced by a file with noOverwriteDirNonDir,
read-only roots and volumes, a FIFO. Nothing outside the container may be read or written."""
import base64
import io
import json
import os
import tarfile
import tempfile
import time

import docker
import pytest

from .conftest import RUNTIMES


def make_tar(entries):
    """entries: (name, bytes | None for a directory, extra TarInfo attributes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data, extra in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            else:
                info.size = len(data)
                info.mode = 0o644
            for key, value in extra.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


@pytest.fixture
def box(daemon, request):
    runtime = getattr(request, "param", "berth")
    name = f"cp-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "-v", f"cpvol-{runtime}:/vol", "busybox", "sh", "-c",
                  "mkdir -p /d/e; echo x > /d/e/y; chown 1000:2000 /d/e/y; ln -sfn /etc /d/link; ln -sfn / /escape;"
                  " ln -sfn ../../../../../../ /uplink; [ -p /fifo ] || mkfifo /fifo; exec sleep 300", check=True)
    import time
    time.sleep(0.3)
    yield name
    daemon.docker("rm", "-f", "-v", name)
    daemon.docker("volume", "rm", "-f", f"cpvol-{runtime}")


@pytest.mark.parametrize("box", RUNTIMES, indirect=True)
def test_copy_out_and_in_running_and_stopped(daemon, box, tmp_path):
    r = daemon.docker("cp", f"{box}:/d", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "e" / "y").read_text() == "x\n"
    assert os.readlink(tmp_path / "out" / "link") == "/etc"
    # The archive keeps owners (the docker CLI itself does not apply them when extracting).
    r = daemon.docker("cp", f"{box}:/d/e/y", "-")
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
        member = tar.getmember("y")
        assert (member.uid, member.gid, member.mode) == (1000, 2000, 0o644)
    # Into the container: root's by default, the archive's owners with -a.
    owned = tmp_path / "owned.txt"
    owned.write_text("owned\n")
    os.chown(owned, 1234, 5678)
    assert daemon.docker("cp", "-a", str(owned), f"{box}:/tmp/").returncode == 0
    assert daemon.docker("exec", box, "stat", "-c", "%u:%g", "/tmp/owned.txt", check=True).stdout.strip() == b"1234:5678"
    (tmp_path / "up.txt").write_text("uploaded\n")
    for dest in [f"{box}:/vol/", f"{box}:/d/e/", f"{box}:/tmp/renamed.txt"]:
        r = daemon.docker("cp", str(tmp_path / "up.txt"), dest)
        assert r.returncode == 0, (dest, r.stderr)
    out = daemon.docker("exec", box, "cat", "/vol/up.txt", "/d/e/up.txt", "/tmp/renamed.txt", check=True).stdout
    assert out == b"uploaded\n" * 3
    stat = daemon.docker("exec", box, "stat", "-c", "%u:%g", "/vol/up.txt", check=True).stdout.strip()
    assert stat == b"0:0"
    daemon.docker("stop", "-t", "0", box, check=True)
    r = daemon.docker("cp", f"{box}:/tmp/renamed.txt", "-")
    assert r.returncode == 0, r.stderr
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
        assert tar.getnames() == ["renamed.txt"]
        assert tar.extractfile("renamed.txt").read() == b"uploaded\n"
    (tmp_path / "later.txt").write_text("while stopped\n")
    assert daemon.docker("cp", str(tmp_path / "later.txt"), f"{box}:/").returncode == 0
    daemon.docker("start", box, check=True)
    assert daemon.docker("exec", box, "cat", "/later.txt", check=True).stdout == b"while stopped\n"
    # Nothing of the container is left mounted by the copies made while it was stopped.
    daemon.docker("stop", "-t", "0", box, check=True)
    with open("/proc/self/mountinfo") as f:
        rootfs = os.path.join(daemon.root, "containers")
        assert not [line for line in f if rootfs in line and box in line]


def test_links_never_reach_the_host(daemon, box, tmp_path):
    marker = tempfile.mkdtemp(prefix="cp-host-", dir="/tmp")
    try:
        (tmp_path / "planted").write_text("planted\n")
        inside = marker.lstrip("/")
        daemon.docker("exec", box, "mkdir", "-p", "/" + inside, check=True)
        for dest in [f"{box}:/escape{marker}/", f"{box}:/uplink{marker}/", f"{box}:/d/link/../../..{marker}/"]:
            r = daemon.docker("cp", str(tmp_path / "planted"), dest)
            assert r.returncode == 0, (dest, r.stderr)
            assert os.listdir(marker) == [], dest
        assert daemon.docker("exec", box, "cat", f"{marker}/planted", check=True).stdout == b"planted\n"
        # Reading through the same links reads the container's files, never the host's.
        r = daemon.docker("cp", f"{box}:/escape/etc/hostname", "-")
        short_id = daemon.docker("inspect", "-f", "{{.Id}}", box, check=True).stdout.strip()[:12]
        with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
            assert tar.extractfile("hostname").read() == short_id + b"\n"
        r = daemon.docker("cp", f"{box}:/uplink/etc/debian_version", "-")
        assert r.returncode != 0 and b"Could not find the file" in r.stderr
        # A FIFO is archived as a FIFO, without blocking on it.
        r = daemon.docker("cp", f"{box}:/fifo", "-", timeout=20)
        with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
            assert tar.getmember("fifo").isfifo()
    finally:
        os.rmdir(marker)


def test_hostile_archives_are_refused_and_change_nothing(daemon, box):
    client = daemon.client()
    api = client.api
    for entries, message in [
        ([("../../../../tmp/cp-evil", b"x", {})], "escapes"),
        ([("/etc/cp-evil", b"x", {})], None),
        ([("e", b"not a dir", {})], "cannot overwrite directory"),
        ([("link", b"x", {"type": tarfile.SYMTYPE, "linkname": "/etc", "size": 0}), ("link/cp-evil", b"x", {})], None),
        ([("h", b"", {"type": tarfile.LNKTYPE, "linkname": "../../../../etc/passwd", "size": 0})], "invalid hardlink"),
    ]:
        data = make_tar(entries)
        if message == "cannot overwrite directory":
            res = api._put(api._url("/containers/{0}/archive", box), params={"path": "/d", "noOverwriteDirNonDir": "true"}, data=data)
            assert res.status_code == 400 and "cannot overwrite directory" in res.json()["message"]
            continue
        res = api._put(api._url("/containers/{0}/archive", box), params={"path": "/d"}, data=data)
        if message is not None:
            assert res.status_code == 400 and message in res.json()["message"], res.text
        assert not os.path.exists("/tmp/cp-evil")
        assert not os.path.exists("/etc/cp-evil")
    assert "cp-evil" not in open("/etc/passwd").read()
    r = daemon.docker("exec", box, "sh", "-c", "cat /d/e/y; test -e /d/h || echo no-link")
    assert r.stdout == b"x\nno-link\n"


def test_stat_header_errors_and_read_only(daemon, box):
    client = daemon.client()
    api = client.api
    res = api.head(api._url("/containers/{0}/archive", box), params={"path": "/d/link"})
    assert res.status_code == 200
    stat = json.loads(base64.b64decode(res.headers["X-Docker-Container-Path-Stat"]))
    assert stat["name"] == "link" and stat["linkTarget"] == "/etc" and stat["mode"] & (1 << 27)
    res = api.head(api._url("/containers/{0}/archive", box), params={"path": "/d"})
    stat = json.loads(base64.b64decode(res.headers["X-Docker-Container-Path-Stat"]))
    assert stat["mode"] == (1 << 31) | 0o755 and stat["name"] == "d"
    assert api.head(api._url("/containers/{0}/archive", box), params={"path": "/nope"}).status_code == 404
    assert api._get(api._url("/containers/{0}/archive", box), params={}).status_code == 400
    bits, stat = client.containers.get(box).get_archive("/d/e/y")
    assert stat["size"] == 2 and stat["name"] == "y"
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
        assert tar.extractfile("y").read() == b"x\n"
    assert client.containers.get(box).put_archive("/vol", make_tar([("py.txt", b"py\n", {})]))
    res = api._put(api._url("/containers/{0}/archive", box), params={"path": "/d/e/y"}, data=make_tar([("z", b"z", {})]))
    assert res.status_code == 400 and "not a directory" in res.json()["message"]
    daemon.docker("run", "-d", "--name", "cp-ro", "--read-only", "-v", "cp-rovol:/rovol:ro", "busybox", "sleep", "300", check=True)
    try:
        for path, message in [("/tmp", "container rootfs is marked read-only"), ("/rovol", "mounted volume is marked read-only")]:
            res = api._put(api._url("/containers/{0}/archive", "cp-ro"), params={"path": path}, data=make_tar([("z", b"z", {})]))
            assert res.status_code == 403 and message in res.json()["message"], res.text
    finally:
        daemon.docker("rm", "-f", "-v", "cp-ro")
        daemon.docker("volume", "rm", "-f", "cp-rovol")


def test_bind_mount_targets(daemon, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    daemon.docker("run", "-d", "--name", "cp-bind", "-v", f"{shared}:/shared", "busybox", "sleep", "300", check=True)
    try:
        (tmp_path / "f.txt").write_text("to bind\n")
        assert daemon.docker("cp", str(tmp_path / "f.txt"), "cp-bind:/shared/").returncode == 0
        assert (shared / "f.txt").read_text() == "to bind\n"
        (shared / "g.txt").write_text("from host\n")
        r = daemon.docker("cp", "cp-bind:/shared/g.txt", "-")
        with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
            assert tar.extractfile("g.txt").read() == b"from host\n"
    finally:
        daemon.docker("rm", "-f", "cp-bind")


def test_berth_cp_both_ways(daemon, box, tmp_path):
    r = daemon.berth("cp", f"{box}:/d", str(tmp_path / "copied"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "copied" / "e" / "y").read_text() == "x\n"
    assert os.readlink(tmp_path / "copied" / "link") == "/etc"
    st = os.stat(tmp_path / "copied" / "e" / "y")
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    (tmp_path / "existing").mkdir()
    assert daemon.berth("cp", f"{box}:/d/e/y", str(tmp_path / "existing")).returncode == 0
    assert (tmp_path / "existing" / "y").read_text() == "x\n"
    r = daemon.berth("cp", f"{box}:/d/e/y", "-")
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
        assert tar.getnames() == ["y"]
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "a.txt").write_text("a\n")
    os.chown(tmp_path / "up" / "a.txt", 4321, 8765)
    assert daemon.berth("cp", str(tmp_path / "up"), f"{box}:/vol/").returncode == 0
    assert daemon.berth("cp", str(tmp_path / "up" / "a.txt"), f"{box}:/tmp/renamed.txt").returncode == 0
    assert daemon.berth("cp", "-a", str(tmp_path / "up" / "a.txt"), f"{box}:/tmp/").returncode == 0
    out = daemon.docker("exec", box, "sh", "-c", "cat /vol/up/a.txt /tmp/renamed.txt; stat -c %u:%g /vol/up/a.txt /tmp/a.txt", check=True).stdout.decode().split()
    assert out == ["a", "a", "0:0", "4321:8765"]
    r = daemon.berth("cp", f"{box}:/nope", str(tmp_path / "x"))
    assert r.returncode != 0 and b"Could not find the file /nope" in r.stderr
    r = daemon.berth("cp", f"{box}:/a", f"{box}:/b")
    assert r.returncode != 0 and b"copying between containers is not supported" in r.stderr


def test_export_of_running_and_stopped_containers(daemon, tmp_path):
    daemon.docker("run", "-d", "--name", "exp", "-v", "exp-vol:/vol", "busybox", "sh", "-c",
                  "echo changed > /changed; chown 1000:1000 /changed; echo v > /vol/in-volume; rm /bin/sed; exec sleep 300", check=True)
    try:
        time.sleep(0.5)
        for step in ("running", "stopped"):
            r = daemon.docker("export", "exp")
            assert r.returncode == 0, r.stderr
            with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
                names = set(tar.getnames())
                assert "changed" in names and "bin/busybox" in names and "etc/passwd" in names, step
                assert "bin/sed" not in names, step
                assert not any(n.startswith("vol/") for n in names), "volumes are not exported"
                member = tar.getmember("changed")
                assert (member.uid, member.gid) == (1000, 1000) and tar.extractfile(member).read() == b"changed\n"
            daemon.docker("stop", "-t", "0", "exp", check=True)
        out = tmp_path / "exp.tar"
        r = daemon.berth("export", "-o", str(out), "exp")
        assert r.returncode == 0, r.stderr
        with tarfile.open(out) as tar:
            assert "changed" in tar.getnames()
        r = daemon.docker("export", "no-such-container")
        assert r.returncode != 0 and b"No such container" in r.stderr
    finally:
        daemon.docker("rm", "-f", "-v", "exp")
