"""Images without a registry: import, tag, rmi, inspect, history, save and load (docker and
OCI layouts), through the docker CLI."""
import io
import json
import os
import tarfile

import pytest


def image_ids(daemon):
    return set(daemon.docker("images", "-q", "--no-trunc").stdout.decode().split())


def test_import_with_changes(daemon, busybox_tar):
    with open(busybox_tar, "rb") as f:
        r = daemon.docker("import", "-c", "ENV FOO=bar", "-c", "WORKDIR /tmp", "-c", 'ENTRYPOINT ["sh", "-c"]',
                          "-m", "imported here", "-", "imported:1", input=f.read())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("sha256:")
    info = json.loads(daemon.docker("image", "inspect", "imported:1").stdout)[0]
    assert info["Config"]["Env"] == ["FOO=bar"]
    assert info["Config"]["WorkingDir"] == "/tmp"
    assert info["RepoTags"] == ["imported:1"]
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    r = daemon.docker("run", "--rm", "imported:1", 'echo "$FOO $(pwd)"')
    assert r.stdout == b"bar /tmp\n"
    daemon.docker("rmi", "imported:1", check=True)


def test_images_lists_repository_tag_and_size(daemon):
    r = daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")
    assert "busybox:latest" in r.stdout.decode()


def content_size(tar_path):
    """Bytes of regular-file content in a tar, hard links counted once (docker's layer size)."""
    with tarfile.open(tar_path) as tar:
        return sum(member.size for member in tar.getmembers() if member.isreg())


def test_image_size_is_the_uncompressed_content_size(daemon, busybox_tar, tmp_path):
    daemon.docker("import", busybox_tar, "sized:1", check=True)
    expected = content_size(busybox_tar)
    info = json.loads(daemon.docker("image", "inspect", "sized:1").stdout)[0]
    assert info["Size"] == expected
    listed = daemon.client().images.get("sized:1").attrs["Size"]
    assert listed == expected
    cid = daemon.docker("run", "-d", "sized:1", "sh", "-c", "mkdir /data && head -c 100000 /dev/zero > /data/blob",
                        check=True).stdout.decode().strip()
    daemon.docker("wait", cid, check=True)
    daemon.docker("commit", cid, "sized:2", check=True)
    history = json.loads(daemon.docker("history", "--no-trunc", "--format", "{{json .}}", "sized:2").stdout.splitlines()[0])
    rows = daemon.client().api.history("sized:2")
    assert rows[0]["Size"] == 100000 and rows[1]["Size"] == expected
    assert json.loads(daemon.docker("image", "inspect", "sized:2").stdout)[0]["Size"] == expected + 100000
    assert history["Size"] == "100kB"
    daemon.docker("rm", cid, check=True)
    daemon.docker("rmi", "sized:2", "sized:1", check=True)


def test_tag_and_rmi_untag_before_delete(daemon):
    daemon.docker("tag", "busybox", "example/bb:1", check=True)
    both = json.loads(daemon.docker("image", "inspect", "busybox").stdout)[0]["RepoTags"]
    assert sorted(both) == ["busybox:latest", "example/bb:1"]
    r = daemon.docker("rmi", "example/bb:1")
    assert r.returncode == 0
    assert b"Untagged: example/bb:1" in r.stdout
    assert b"Deleted" not in r.stdout
    assert daemon.docker("image", "inspect", "busybox").returncode == 0


def test_rmi_of_image_used_by_container_is_refused(daemon):
    daemon.docker("tag", "busybox", "inuse:1", check=True)
    cid = daemon.docker("create", "inuse:1", "true", check=True).stdout.decode().strip()
    daemon.docker("rmi", "busybox:latest")  # untags only: another tag remains
    r = daemon.docker("rmi", "inuse:1")
    assert r.returncode != 0 and b"is using its referenced image" in r.stderr
    daemon.docker("rm", cid, check=True)
    daemon.docker("tag", "inuse:1", "busybox:latest", check=True)
    daemon.docker("rmi", "inuse:1", check=True)


def test_rmi_unknown_image_is_404(daemon):
    r = daemon.docker("rmi", "nope:9")
    assert r.returncode != 0 and b"No such image" in r.stderr


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_save_then_load_round_trip(daemon, tmp_path, fmt):
    daemon.docker("tag", "busybox", f"roundtrip-{fmt}:1", check=True)
    out = tmp_path / "saved.tar"
    if fmt == "docker":
        daemon.docker("save", "-o", str(out), f"roundtrip-{fmt}:1", check=True)
    else:
        r = daemon.berth("save", "--format", "oci", "-o", str(out), f"roundtrip-{fmt}:1")
        assert r.returncode == 0, r.stderr
    with tarfile.open(out) as t:
        names = set(t.getnames())
    assert "index.json" in names and "oci-layout" in names
    assert ("manifest.json" in names) == (fmt == "docker")
    image_id = json.loads(daemon.docker("image", "inspect", f"roundtrip-{fmt}:1").stdout)[0]["Id"]
    daemon.docker("rmi", f"roundtrip-{fmt}:1", check=True)
    r = daemon.docker("load", "-i", str(out))
    assert r.returncode == 0, r.stderr
    assert f"Loaded image: roundtrip-{fmt}:1".encode() in r.stdout
    assert json.loads(daemon.docker("image", "inspect", f"roundtrip-{fmt}:1").stdout)[0]["Id"] == image_id
    assert daemon.docker("run", "--rm", f"roundtrip-{fmt}:1", "echo", "loaded").stdout == b"loaded\n"
    daemon.docker("rmi", f"roundtrip-{fmt}:1", check=True)


def test_load_of_a_legacy_docker_save_tarball(daemon, tmp_path, busybox_tar):
    """The layout older docker versions write: <id>/layer.tar, <id>.json, manifest.json."""
    import hashlib
    layer = open(busybox_tar, "rb").read()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["echo", "legacy"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_hex}.json", "RepoTags": ["legacy:1"], "Layers": ["abc/layer.tar"]}]).encode()
    out = tmp_path / "legacy.tar"
    with tarfile.open(out, "w") as t:
        for name, data in [(f"{config_hex}.json", config), ("abc/layer.tar", layer), ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    r = daemon.docker("load", "-i", str(out))
    assert r.returncode == 0, r.stderr
    assert daemon.docker("run", "--rm", "legacy:1").stdout == b"legacy\n"
    daemon.docker("rmi", "legacy:1", check=True)


def test_import_of_a_gzip_tarball(daemon, busybox_tar):
    import gzip
    with open(busybox_tar, "rb") as f:
        compressed = gzip.compress(f.read())
    r = daemon.docker("import", "-", "gzipped:1", input=compressed)
    assert r.returncode == 0, r.stderr
    info = json.loads(daemon.docker("image", "inspect", "gzipped:1").stdout)[0]
    plain = json.loads(daemon.docker("image", "inspect", "busybox").stdout)[0]
    # The same files give the same diff ID whatever the compression.
    assert info["RootFS"]["Layers"] == plain["RootFS"]["Layers"]
    assert daemon.docker("run", "--rm", "gzipped:1", "echo", "gz").stdout == b"gz\n"
    daemon.docker("rmi", "gzipped:1", check=True)
