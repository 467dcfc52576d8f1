"""Volumes as dockerd serves them, driven by the docker CLI, docker-py and berth: the volume
API (create/ls/inspect/rm/prune with labels, filters and the local driver's options), `-v`,
`--mount` (volume, bind, tmpfs with their options), anonymous volumes from `-v /path` and an
image's VOLUME, copy-up of the image's content into an empty volume (and `nocopy`), in-use
volumes refused by rm, `rm -v` and `--rm`, `--volumes-from`, and data kept across container
removal and a kill -9 of the daemon. Hostile input: bad names, unknown options and drivers,
duplicate mount points, an image whose volume path is a link to a host directory."""
import json
import os
import subprocess

import docker
import pytest

from .conftest import RUNTIMES


def inspect_volume(daemon, name):
    r = daemon.docker("volume", "inspect", name)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)[0]


def volume_names(daemon, *args):
    return daemon.docker("volume", "ls", "-q", *args, check=True).stdout.decode().split()


def mounts_of(daemon, container):
    return json.loads(daemon.docker("inspect", "-f", "{{json .Mounts}}", container, check=True).stdout)


@pytest.fixture
def cleanup_volumes(daemon):
    made = []
    yield made
    for name in made:
        daemon.docker("volume", "rm", "-f", name)


def test_create_inspect_list_and_remove(daemon, cleanup_volumes):
    cleanup_volumes += ["vol-a", "vol-b"]
    r = daemon.docker("volume", "create", "--label", "team=blue", "--label", "tier", "vol-a")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "vol-a"
    v = inspect_volume(daemon, "vol-a")
    assert v["Name"] == "vol-a" and v["Driver"] == "local" and v["Scope"] == "local"
    assert v["Labels"] == {"team": "blue", "tier": ""}
    assert v["Options"] is None
    assert v["Mountpoint"] == os.path.join(daemon.root, "volumes", "vol-a", "_data")
    assert os.path.isdir(v["Mountpoint"])
    assert v["CreatedAt"].endswith("Z") and len(v["CreatedAt"]) == 20
    # Creating it again answers the same volume, as docker does.
    assert daemon.docker("volume", "create", "vol-a").returncode == 0
    assert inspect_volume(daemon, "vol-a")["CreatedAt"] == v["CreatedAt"]
    daemon.docker("volume", "create", "vol-b", check=True)
    assert {"vol-a", "vol-b"} <= set(volume_names(daemon))
    assert volume_names(daemon, "--filter", "label=team=blue") == ["vol-a"]
    assert volume_names(daemon, "--filter", "label=tier") == ["vol-a"]
    assert "vol-a" not in volume_names(daemon, "--filter", "name=vol-b")
    assert "vol-b" in volume_names(daemon, "--filter", "dangling=true")
    table = daemon.docker("volume", "ls", check=True).stdout.decode().splitlines()
    assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert any(line.split() == ["local", "vol-a"] for line in table[1:])
    assert daemon.docker("volume", "ls", "--format", "{{.Name}} {{.Driver}}", "--filter", "name=vol-a", check=True).stdout == b"vol-a local\n"
    r = daemon.docker("volume", "rm", "vol-a", "vol-b")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == ["vol-a", "vol-b"]
    assert not os.path.exists(v["Mountpoint"])
    r = daemon.docker("volume", "inspect", "vol-a")
    assert r.returncode == 1 and b"no such volume" in r.stderr


def test_bad_volume_requests_are_refused_and_change_nothing(daemon):
    before = volume_names(daemon)
    for name in ["a", "_x", "a/b", "..", "x y", "é-vol"]:
        r = daemon.docker("volume", "create", "--name", name)
        assert r.returncode != 0, name
        assert b"includes invalid characters for a local volume name" in r.stderr, r.stderr
    r = daemon.docker("volume", "create", "--opt", "colour=red", "bad-opt")
    assert r.returncode != 0 and b'invalid option: "colour"' in r.stderr
    r = daemon.docker("volume", "create", "--opt", "type=tmpfs", "half-opt")
    assert r.returncode != 0 and b'missing required option: "device"' in r.stderr
    r = daemon.docker("volume", "create", "--driver", "nfs-magic", "bad-driver")
    assert r.returncode != 0 and b'plugin "nfs-magic" not found' in r.stderr
    r = daemon.docker("volume", "rm", "never-made")
    assert r.returncode == 1 and b"get never-made: no such volume" in r.stderr
    assert daemon.docker("volume", "rm", "-f", "never-made").returncode == 0
    r = daemon.docker("volume", "ls", "--filter", "colour=red")
    assert r.returncode != 0 and b"invalid filter 'colour'" in r.stderr
    r = daemon.docker("volume", "ls", "--filter", "dangling=maybe")
    assert r.returncode != 0 and b"invalid filter" in r.stderr
    for args, message in [
        (["-v", "vol-x:relative"], b"mount path must be absolute"),
        (["-v", "vol-x:/"], b"destination can't be '/'"),
        (["-v", "vol-x:/a:bogus"], b"invalid mode: bogus"),
        (["-v", "x:/a"], b"invalid volume specification: 'x:/a'"),
        (["-v", "ab:/a"], None),
        (["-v", "vol-x:/a", "-v", "vol-y:/a"], b"Duplicate mount point: /a"),
        (["--mount", "type=bind,src=/definitely/not/here,dst=/a"], b"bind source path does not exist: /definitely/not/here"),
        (["--mount", "type=tmpfs,src=foo,dst=/a"], b"field Source must not be specified"),
        (["--mount", "type=volume,src=vol-x,dst=/a,volume-driver=nope"], b'plugin "nope" not found'),
        (["--mount", "type=magic,dst=/a"], b"mount type unknown"),
    ]:
        r = daemon.docker("run", "--rm", *args, "busybox", "true")
        if message is None:
            # Two characters is docker's shortest volume name; a one-letter one ("x:") the CLI
            # takes for a drive letter and sends as a path, refused above.
            assert r.returncode == 0, r.stderr
            daemon.docker("volume", "rm", "ab", check=True)
            continue
        assert r.returncode == 125, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    assert volume_names(daemon) == before
    assert not os.path.exists("/definitely/not/here")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_named_volume_keeps_data_and_is_refused_while_in_use(daemon, runtime, cleanup_volumes):
    vol = f"keep-{runtime}"
    cleanup_volumes.append(vol)
    name = f"writer-{runtime}"
    r = daemon.docker("run", "--name", name, "--runtime", runtime, "-v", f"{vol}:/data", "busybox",
                      "sh", "-c", "echo kept > /data/f && grep ' /data ' /proc/self/mountinfo")
    assert r.returncode == 0, r.stderr
    assert b"/volumes/" + vol.encode() + b"/_data /data rw" in r.stdout
    (mount,) = mounts_of(daemon, name)
    assert mount == {"Type": "volume", "Name": vol, "Source": os.path.join(daemon.root, "volumes", vol, "_data"),
                     "Destination": "/data", "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""}
    r = daemon.docker("volume", "rm", vol)
    assert r.returncode == 1
    assert f"remove {vol}: volume is in use - [".encode() in r.stderr
    container_id = daemon.docker("inspect", "-f", "{{.Id}}", name, check=True).stdout.strip()
    assert container_id in r.stderr
    assert vol not in volume_names(daemon, "--filter", "dangling=true")
    daemon.docker("rm", name, check=True)
    r = daemon.docker("run", "--rm", "--runtime", runtime, "-v", f"{vol}:/again:ro", "busybox",
                      "sh", "-c", "cat /again/f; touch /again/x")
    assert r.stdout == b"kept\n"
    assert r.returncode != 0 and b"Read-only file system" in r.stderr
    assert vol in volume_names(daemon, "--filter", "dangling=true")
    assert daemon.docker("volume", "rm", vol).returncode == 0


def test_anonymous_volumes_go_with_rm_v_and_run_rm(daemon):
    r = daemon.docker("create", "--name", "anon-keep", "-v", "/scratch", "busybox", "true")
    assert r.returncode == 0, r.stderr
    (mount,) = mounts_of(daemon, "anon-keep")
    anon = mount["Name"]
    assert len(anon) == 64 and mount["Destination"] == "/scratch" and mount["Type"] == "volume"
    assert inspect_volume(daemon, anon)["Labels"] == {"com.docker.volume.anonymous": ""}
    daemon.docker("rm", "anon-keep", check=True)
    assert anon in volume_names(daemon)
    daemon.docker("create", "--name", "anon-go", "-v", "/scratch", "busybox", "true", check=True)
    gone = mounts_of(daemon, "anon-go")[0]["Name"]
    daemon.docker("rm", "-v", "anon-go", check=True)
    assert gone not in volume_names(daemon)
    before = set(volume_names(daemon))
    r = daemon.docker("run", "--rm", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/x")
    assert r.returncode == 0, r.stderr
    assert set(volume_names(daemon)) == before
    # Only anonymous volumes are pruned by default (API ≥ 1.42); -a takes named ones too.
    daemon.docker("volume", "create", "named-unused", check=True)
    r = daemon.docker("volume", "prune", "-f")
    assert r.returncode == 0, r.stderr
    assert anon.encode() in r.stdout and b"Total reclaimed space:" in r.stdout
    assert anon not in volume_names(daemon) and "named-unused" in volume_names(daemon)
    r = daemon.docker("volume", "prune", "-a", "-f")
    assert b"named-unused" in r.stdout
    assert "named-unused" not in volume_names(daemon)


def test_image_volume_is_filled_from_the_image_unless_nocopy(daemon, cleanup_volumes):
    cleanup_volumes += ["copied", "not-copied", "prefilled"]
    daemon.docker("run", "--name", "vol-src", "busybox", "sh", "-c",
                  "mkdir -p /data/sub && echo hello > /data/file && chown 1000:2000 /data/file && chmod 640 /data/file"
                  " && ln -s /etc/passwd /data/link && chmod 750 /data && chown 33:44 /data", check=True)
    try:
        daemon.docker("commit", "-c", "VOLUME /data", "vol-src", "volimg:1", check=True)
    finally:
        daemon.docker("rm", "-f", "vol-src")
    try:
        listing = "stat -c '%n %u:%g %a' /data /data/file && readlink /data/link && cat /data/file"
        expected = b"/data 33:44 750\n/data/file 1000:2000 640\n/etc/passwd\nhello\n"
        # The image's VOLUME gets an anonymous volume holding the image's content.
        r = daemon.docker("run", "--name", "img-anon", "volimg:1", "sh", "-c", listing)
        assert r.stdout == expected, r.stderr
        (mount,) = mounts_of(daemon, "img-anon")
        assert mount["Type"] == "volume" and len(mount["Name"]) == 64
        daemon.docker("rm", "-v", "img-anon", check=True)
        r = daemon.docker("run", "--rm", "-v", "copied:/data", "volimg:1", "sh", "-c", listing)
        assert r.stdout == expected, r.stderr
        data = inspect_volume(daemon, "copied")["Mountpoint"]
        st = os.lstat(os.path.join(data, "file"))
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 2000, 0o640)
        assert os.readlink(os.path.join(data, "link")) == "/etc/passwd"
        r = daemon.docker("run", "--rm", "--mount", "type=volume,src=not-copied,dst=/data,volume-nocopy", "volimg:1", "ls", "-A", "/data")
        assert r.returncode == 0 and r.stdout == b"", r.stderr
        # A volume with content keeps it: nothing of the image is copied over it.
        daemon.docker("run", "--rm", "-v", "prefilled:/data", "busybox", "sh", "-c", "echo mine > /data/own", check=True)
        r = daemon.docker("run", "--rm", "-v", "prefilled:/data", "volimg:1", "ls", "-A", "/data")
        assert r.stdout == b"own\n"
    finally:
        daemon.docker("rmi", "volimg:1")


def test_copy_up_never_reads_through_a_link_to_the_host(daemon, cleanup_volumes):
    """An image whose volume path is an absolute link to /etc: the copy is made from the
    image's own /etc (resolved inside its root), never from the host's."""
    cleanup_volumes.append("linked")
    daemon.docker("run", "--name", "link-src", "busybox", "sh", "-c", "rm -rf /data; ln -s /etc /data", check=True)
    try:
        daemon.docker("commit", "link-src", "linkimg:1", check=True)
    finally:
        daemon.docker("rm", "-f", "link-src")
    try:
        image_etc = set(daemon.docker("run", "--rm", "linkimg:1", "ls", "-A", "/etc", check=True).stdout.decode().split())
        r = daemon.docker("run", "--rm", "-v", "linked:/data", "linkimg:1", "true")
        assert r.returncode == 0, r.stderr
        copied = set(os.listdir(inspect_volume(daemon, "linked")["Mountpoint"]))
        assert copied == image_etc
        assert "debian_version" in os.listdir("/etc") and "debian_version" not in copied
    finally:
        daemon.docker("rmi", "linkimg:1")


def test_mount_flag_volume_bind_and_tmpfs(daemon, tmp_path, cleanup_volumes):
    cleanup_volumes += ["labelled", "in-memory"]
    host_dir = tmp_path / "shared"
    host_dir.mkdir()
    (host_dir / "hello").write_text("from host\n")
    r = daemon.docker("run", "--rm",
                      "--mount", "type=volume,src=labelled,dst=/v,volume-label=made=by-mount",
                      "--mount", f"type=bind,src={host_dir},dst=/b,readonly",
                      "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
                      "busybox", "sh", "-c", "cat /b/hello; touch /b/no 2>/dev/null || echo ro; stat -c %a /t; df -k /t | tail -1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[:3] == ["from host", "ro", "1770"]
    assert lines[3].split()[1] == "1024"
    assert inspect_volume(daemon, "labelled")["Labels"] == {"made": "by-mount"}
    # A volume of the local driver with a file system of its own: mounted while used.
    daemon.docker("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=2m,mode=0777", "in-memory", check=True)
    v = inspect_volume(daemon, "in-memory")
    assert v["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=2m,mode=0777"}
    r = daemon.docker("run", "--rm", "-v", "in-memory:/m", "busybox", "sh", "-c", "df -k /m | tail -1; grep ' /m ' /proc/self/mountinfo")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[0].split()[1] == "2048"
    assert b" - tmpfs " in r.stdout
    mounted = subprocess.run(["findmnt", "-n", v["Mountpoint"]], capture_output=True)
    assert mounted.returncode != 0, "the volume's tmpfs stays mounted after its last user stopped"
    # -v with a missing host directory makes it, as docker does.
    made = tmp_path / "made" / "here"
    daemon.docker("run", "--rm", "-v", f"{made}:/x", "busybox", "true", check=True)
    assert made.is_dir()


def test_volumes_from_shares_mounts(daemon, cleanup_volumes):
    cleanup_volumes.append("shared-vol")
    daemon.docker("create", "--name", "vf-source", "-v", "shared-vol:/shared", "-v", "/anon", "busybox", "true", check=True)
    try:
        r = daemon.docker("run", "--rm", "--volumes-from", "vf-source", "busybox", "sh", "-c",
                          "echo via > /shared/f && echo a > /anon/a && cat /shared/f")
        assert r.returncode == 0 and r.stdout == b"via\n", r.stderr
        r = daemon.docker("run", "--rm", "--volumes-from", "vf-source:ro", "busybox", "sh", "-c", "cat /anon/a; touch /shared/g")
        assert r.stdout == b"a\n"
        assert r.returncode != 0 and b"Read-only file system" in r.stderr
        # (Through docker-py: the docker CLI answers a 404 on create by pulling the image.)
        with pytest.raises(docker.errors.NotFound) as err:
            daemon.client().containers.create("busybox", "true", volumes_from=["no-such-container"])
        assert "No such container: no-such-container" in str(err.value)
    finally:
        daemon.docker("rm", "-v", "vf-source")


def test_volume_data_survives_a_daemon_kill(fresh_daemon):
    d = fresh_daemon
    d.docker("run", "-d", "--name", "holder", "-v", "durable:/d", "busybox", "sh", "-c", "echo one > /d/f; sleep 300", check=True)
    d.kill9()
    d.start()
    r = d.docker("volume", "rm", "durable")
    assert r.returncode == 1 and b"volume is in use" in r.stderr
    assert d.docker("exec", "holder", "cat", "/d/f", check=True).stdout == b"one\n"
    d.docker("rm", "-f", "holder", check=True)
    d.kill9()
    d.start()
    assert inspect_volume(d, "durable")["Name"] == "durable"
    r = d.docker("run", "--rm", "-v", "durable:/d", "busybox", "cat", "/d/f")
    assert r.stdout == b"one\n", r.stderr
    assert d.docker("volume", "rm", "durable").returncode == 0


def test_docker_py_volumes(daemon):
    client = daemon.client()
    vol = client.volumes.create(name="py-vol", driver="local", labels={"k": "v"})
    try:
        assert vol.name == "py-vol" and vol.attrs["Labels"] == {"k": "v"}
        assert client.volumes.get("py-vol").attrs["Mountpoint"].endswith("/volumes/py-vol/_data")
        assert [v.name for v in client.volumes.list(filters={"label": "k=v"})] == ["py-vol"]
        out = client.containers.run("busybox", ["sh", "-c", "echo py > /data/f; cat /data/f"],
                                    volumes={"py-vol": {"bind": "/data", "mode": "rw"}}, remove=True)
        assert out == b"py\n"
        c = client.containers.create("busybox", "true", volumes=["/anon-py", "py-vol:/data"])
        anon = next(m["Name"] for m in c.attrs["Mounts"] if m["Destination"] == "/anon-py")
        with pytest.raises(docker.errors.APIError) as err:
            client.volumes.get("py-vol").remove()
        assert err.value.status_code == 409 and "volume is in use" in str(err.value)
        c.remove(v=True)
        assert anon not in [v.name for v in client.volumes.list()]
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get("py-missing")
        pruned = client.volumes.prune(filters={"all": "true", "label": "k=v"})
        assert pruned["VolumesDeleted"] == ["py-vol"] and pruned["SpaceReclaimed"] > 0
    finally:
        try:
            client.volumes.get("py-vol").remove(force=True)
        except docker.errors.NotFound:
            pass


def test_berth_cli_volumes(daemon):
    r = daemon.berth("volume", "create", "--label", "x=1", "berth-vol")
    assert r.returncode == 0 and r.stdout == b"berth-vol\n", r.stderr
    try:
        assert b"berth-vol" in daemon.berth("volume", "ls", check=True).stdout
        assert daemon.berth("volume", "ls", "-q", "--filter", "label=x=1", check=True).stdout == b"berth-vol\n"
        info = json.loads(daemon.berth("volume", "inspect", "berth-vol", check=True).stdout)[0]
        assert info["Labels"] == {"x": "1"}
        r = daemon.berth("run", "--rm", "--mount", "type=volume,src=berth-vol,dst=/v", "busybox", "sh", "-c", "echo b > /v/f")
        assert r.returncode == 0, r.stderr
        r = daemon.berth("run", "--rm", "-v", "berth-vol:/v:ro", "busybox", "cat", "/v/f")
        assert r.stdout == b"b\n", r.stderr
        r = daemon.berth("volume", "rm", "no-such-berth-vol")
        assert r.returncode == 1 and b"no such volume" in r.stderr
        r = daemon.berth("volume", "prune", "-a", "-f", "--filter", "label=x=1")
        assert r.returncode == 0 and b"berth-vol" in r.stdout, r.stderr
    finally:
        daemon.berth("volume", "rm", "-f", "berth-vol")
