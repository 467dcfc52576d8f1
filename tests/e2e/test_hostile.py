"""Hostile input through the API: malformed JSON, bad archives, digest mismatches and escaping
paths. Each must fail with a clear error and leave the images and containers as they were."""
import hashlib
import io
import json
import os
import socket
import tarfile


def request(daemon, method, path, body=b"", headers=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(daemon.socket)
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    s.sendall(head.encode() + b"\r\n" + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def snapshot(daemon):
    images = daemon.docker("images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout
    containers = daemon.docker("ps", "-a", "--no-trunc", "-q").stdout
    blobs = sorted(os.listdir(os.path.join(daemon.root, "content", "blobs", "sha256")))
    return images, containers, blobs


def tar_of(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_entry(name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_malformed_create_json_is_400(daemon):
    before = snapshot(daemon)
    status, body = request(daemon, "POST", "/v1.44/containers/create", b'{"Image": "busybox", "Cmd": ')
    assert status == 400
    assert b"invalid JSON" in body
    status, body = request(daemon, "POST", "/v1.44/containers/create", b'{"Image": "busybox", "Cmd": 5}')
    assert status == 400
    assert snapshot(daemon) == before


def test_create_without_image_and_unknown_image(daemon):
    status, body = request(daemon, "POST", "/v1.44/containers/create", b'{"Cmd": ["true"]}')
    assert status == 400
    status, body = request(daemon, "POST", "/v1.44/containers/create", b'{"Image": "absent:1"}')
    assert status == 404
    assert json.loads(body)["message"] == "No such image: absent:1"


def test_bad_container_name_and_bad_signal(daemon):
    status, body = request(daemon, "POST", "/v1.44/containers/create?name=bad%2Fname", b'{"Image": "busybox"}')
    assert status == 400 and b"Invalid container name" in body
    cid = daemon.docker("run", "-d", "busybox", "sleep", "30", check=True).stdout.decode().strip()
    status, body = request(daemon, "POST", f"/v1.44/containers/{cid}/kill?signal=NOPE")
    assert status == 400 and b"Invalid signal" in body
    daemon.docker("rm", "-f", cid, check=True)


def test_api_version_too_new(daemon):
    status, body = request(daemon, "GET", "/v1.99/version")
    assert status == 400
    assert b"is too new" in body


def test_import_of_garbage_is_refused(daemon):
    before = snapshot(daemon)
    r = daemon.docker("import", "-", "garbage:1", input=b"this is not a tarball at all" * 100)
    assert r.returncode != 0
    assert snapshot(daemon) == before


def test_import_with_escaping_paths_writes_nothing_outside(daemon, tmp_path):
    canary = tmp_path / "victim"
    canary.write_text("safe")
    evil_link = tarfile.TarInfo("evil")
    evil_link.type = tarfile.SYMTYPE
    evil_link.linkname = str(tmp_path)
    hard = tarfile.TarInfo("hard")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "../" * 12 + str(canary).lstrip("/")
    for entries in (
        [file_entry("../" * 12 + str(tmp_path / "pwn1").lstrip("/"), b"x")],
        [(evil_link, None), file_entry("evil/pwn2", b"x")],
        [(hard, None)],
    ):
        before = snapshot(daemon)
        r = daemon.docker("import", "-", "evil:1", input=tar_of(entries))
        daemon.docker("rmi", "evil:1")
        assert not (tmp_path / "pwn1").exists()
        assert not (tmp_path / "pwn2").exists()
        assert canary.read_text() == "safe"
        if r.returncode != 0:
            assert snapshot(daemon) == before


def test_load_with_digest_mismatch_is_refused(daemon, tmp_path, busybox_tar):
    layer = open(busybox_tar, "rb").read()
    wrong = "sha256:" + "0" * 64
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [wrong]}}).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_hex}.json", "RepoTags": ["mismatch:1"], "Layers": ["l/layer.tar"]}]).encode()
    before = snapshot(daemon)
    r = daemon.docker("load", input=tar_of([file_entry(f"{config_hex}.json", config), file_entry("l/layer.tar", layer),
                                             file_entry("manifest.json", manifest)]))
    assert r.returncode != 0
    assert b"diff" in r.stderr.lower() or b"digest" in r.stderr.lower()
    assert snapshot(daemon) == before


def test_load_with_path_escaping_manifest_is_refused(daemon):
    manifest = json.dumps([{"Config": "../../../etc/passwd", "RepoTags": ["escape:1"], "Layers": []}]).encode()
    before = snapshot(daemon)
    r = daemon.docker("load", input=tar_of([file_entry("manifest.json", manifest)]))
    assert r.returncode != 0
    assert b"outside the archive" in r.stderr
    assert snapshot(daemon) == before


def test_load_of_truncated_archive_is_refused(daemon, tmp_path):
    out = tmp_path / "saved.tar"
    daemon.docker("save", "-o", str(out), "busybox", check=True)
    data = out.read_bytes()
    before = snapshot(daemon)
    r = daemon.docker("load", input=data[: len(data) // 2])
    assert r.returncode != 0
    assert snapshot(daemon) == before


def test_malformed_oci_index_is_refused(daemon):
    before = snapshot(daemon)
    r = daemon.docker("load", input=tar_of([file_entry("index.json", b'{"schemaVersion": 2, "manifests": [{"digest": "sha256:zz"}]}'),
                                           file_entry("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]))
    assert r.returncode != 0
    assert snapshot(daemon) == before


def test_load_with_malformed_config_is_refused(daemon):
    config = b'{"architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": "not-a-list"}}'
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_hex}.json", "RepoTags": ["badconfig:1"], "Layers": []}]).encode()
    before = snapshot(daemon)
    r = daemon.docker("load", input=tar_of([file_entry(f"{config_hex}.json", config), file_entry("manifest.json", manifest)]))
    assert r.returncode != 0
    assert b"config" in r.stderr
    assert snapshot(daemon) == before


def test_load_of_garbage_json_manifest_is_refused(daemon):
    before = snapshot(daemon)
    r = daemon.docker("load", input=tar_of([file_entry("manifest.json", b"[{not json")]))
    assert r.returncode != 0
    assert b"manifest.json" in r.stderr
    assert snapshot(daemon) == before
