"""Real clients against berth-registry: skopeo copies both ways (OCI and Docker schema 2),
inspect, list-tags and delete; with basic auth and with TLS."""
import json
import os
import subprocess

import pytest

from serverlib import Server, layout_blobs, request, skopeo


def round_trip(server, layout, tmp_path, repo, fmt=None, dest_flags=(), src_flags=()):
    flags = ["--format", fmt] if fmt else []
    skopeo("copy", *flags, *dest_flags, f"oci:{layout}:latest", f"docker://{server.address}/{repo}:v1")
    out = str(tmp_path / repo.replace("/", "_"))
    skopeo("copy", *src_flags, f"docker://{server.address}/{repo}:v1", f"oci:{out}:latest")
    return out


def test_oci_image_round_trip_keeps_every_digest(server, image_layout, tmp_path):
    layout, manifest_digest = image_layout
    out = round_trip(server, layout, tmp_path, "team/app", dest_flags=["--dest-tls-verify=false"], src_flags=["--src-tls-verify=false"])
    assert layout_blobs(out) == layout_blobs(layout)
    with open(os.path.join(out, "index.json")) as f:
        assert json.load(f)["manifests"][0]["digest"] == manifest_digest
    assert server.verify_store() == len(layout_blobs(layout))


def test_docker_schema2_round_trip(server, image_layout, tmp_path):
    layout, _ = image_layout
    out = round_trip(server, layout, tmp_path, "v2s2", fmt="v2s2", dest_flags=["--dest-tls-verify=false"], src_flags=["--src-tls-verify=false"])
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{server.address}/v2s2:v1").stdout
    assert json.loads(raw)["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    # The layers are the same blobs; only config and manifest are rewritten.
    assert set(layout_blobs(layout)) & set(layout_blobs(out))
    status, headers, _ = request("HEAD", f"{server.url}/v2/v2s2/manifests/v1")
    assert status == 200 and headers["Content-Type"] == "application/vnd.docker.distribution.manifest.v2+json"


def test_inspect_list_tags_and_delete(server, image_layout):
    layout, manifest_digest = image_layout
    for tag in ["a", "b", "c"]:
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{server.address}/lib/x:{tag}")
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{server.address}/lib/x:b").stdout)
    assert info["Digest"] == manifest_digest
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{server.address}/lib/x").stdout)["Tags"]
    assert sorted(tags) == ["a", "b", "c"]
    skopeo("delete", "--tls-verify=false", f"docker://{server.address}/lib/x:a")
    # Deleting by digest removes the manifest and every tag pointing to it.
    assert json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{server.address}/lib/x").stdout)["Tags"] == []
    assert skopeo("inspect", "--tls-verify=false", f"docker://{server.address}/lib/x:b", check=False).returncode != 0


def test_basic_auth_with_htpasswd(image_layout, tmp_path):
    bcrypt = pytest.importorskip("bcrypt")
    htpasswd = tmp_path / "htpasswd"
    # `$2y$`, as `htpasswd -B` writes for Docker's registry.
    htpasswd.write_text("alice:" + bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=5)).decode().replace("$2b$", "$2y$") + "\n")
    s = Server(htpasswd=str(htpasswd))
    try:
        s.start()
        layout, _ = image_layout
        dest = f"docker://{s.address}/private/app:v1"
        status, headers, body = request("GET", f"{s.url}/v2/")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
        assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
        refused = skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:wrong", f"oci:{layout}:latest", dest, check=False)
        assert refused.returncode != 0
        assert s.blob_files() == []
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", f"oci:{layout}:latest", dest)
        tags = skopeo("list-tags", "--tls-verify=false", "--creds", "alice:s3cret", f"docker://{s.address}/private/app").stdout
        assert json.loads(tags)["Tags"] == ["v1"]
        assert skopeo("list-tags", "--tls-verify=false", f"docker://{s.address}/private/app", check=False).returncode != 0
    finally:
        s.cleanup()


def make_certificate(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def test_tls(image_layout, tmp_path):
    cert, key = make_certificate(str(tmp_path))
    certs = tmp_path / "certs.d"
    certs.mkdir()
    (certs / "ca.crt").write_text(open(cert).read())
    s = Server(tls=(cert, key))
    try:
        s.start()
        layout, manifest_digest = image_layout
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{s.address}/secure/app:v1")
        out = str(tmp_path / "out")
        skopeo("copy", "--src-cert-dir", str(certs), f"docker://{s.address}/secure/app:v1", f"oci:{out}:latest")
        assert layout_blobs(out) == layout_blobs(layout)
        # Plain HTTP to the TLS port gets no registry answer.
        with pytest.raises(Exception):
            request("GET", f"http://{s.address}/v2/", timeout=5)
    finally:
        s.cleanup()
