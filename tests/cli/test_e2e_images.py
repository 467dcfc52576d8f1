"""End to end: `berth` image commands against a real berthd (see conftest.py)."""
import json
import re
import uuid


def test_images_table(daemon, image):
    lines = daemon.out("images").splitlines()
    assert re.match(r"REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$", lines[0])
    row = next(line.split() for line in lines[1:] if line.startswith("berth-test/busybox "))
    assert row[1] == "1"
    assert re.fullmatch(r"[0-9a-f]{12}", row[2])
    assert re.fullmatch(r"\d+(\.\d+)?[kMG]?B", row[-1])
    assert row[2] in daemon.out("images", "-q").split()


def test_tag_inspect_rmi(daemon, image):
    target = f"berth-test/tagged-{uuid.uuid4().hex[:6]}:2"
    assert daemon("tag", image, target).returncode == 0
    inspected = json.loads(daemon.out("inspect", target))
    assert target in inspected[0]["RepoTags"]
    assert inspected[0]["Id"].startswith("sha256:")
    out = daemon.out("rmi", target)
    assert f"Untagged: {target}" in out
    assert target.split(":")[0] not in daemon.out("images")


def test_rmi_missing(daemon):
    result = daemon("rmi", "berth-test/absent:9")
    assert result.returncode == 1
    assert "Error response from daemon:" in result.stderr.decode()


def test_save_load_round_trip(daemon, image, tmp_path):
    copy = f"berth-test/saved-{uuid.uuid4().hex[:6]}:1"
    daemon.out("tag", image, copy)
    archive = tmp_path / "saved.tar"
    daemon.out("save", "-o", str(archive), copy)
    assert archive.stat().st_size > 10_000
    daemon.out("rmi", copy)
    out = daemon.out("load", "-i", str(archive))
    assert f"Loaded image: {copy}" in out
    streamed = daemon("save", copy)
    assert streamed.returncode == 0 and len(streamed.stdout) > 10_000
    daemon.out("rmi", copy)
    out = daemon.out("load", input=streamed.stdout)
    assert f"Loaded image: {copy}" in out
    result = daemon("run", "--rm", copy, "echo", "loaded ok")
    assert result.stdout == b"loaded ok\n"
    daemon.out("rmi", copy)


def test_save_oci_format(daemon, image, tmp_path):
    archive = tmp_path / "oci.tar"
    daemon.out("save", "--format", "oci", "-o", str(archive), image)
    import tarfile
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "index.json" in names and "oci-layout" in names


def test_import_from_stdin_with_message(daemon, image, tmp_path):
    from .conftest import build_rootfs_tar
    tar = tmp_path / "rootfs.tar"
    build_rootfs_tar(tar)
    name = f"berth-test/imported-{uuid.uuid4().hex[:6]}:1"
    out = daemon.out("import", "-m", "from stdin", "-c", "ENV PATH=/bin", "-", name, input=tar.read_bytes())
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", out)
    inspected = json.loads(daemon.out("inspect", name))
    assert inspected[0]["Comment"] == "from stdin"
    daemon.out("rmi", name)


def test_version_and_info(daemon):
    version = daemon.out("version")
    assert version.startswith("Client:\n")
    assert "Server:" in version and "API version:" in version
    info = daemon.out("info")
    assert "Containers:" in info and "Images:" in info
