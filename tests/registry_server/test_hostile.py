"""Hostile requests: each gets a clear status and the spec's JSON error, leaves nothing partial
visible and no stored blob changed, and the server keeps serving."""
import json
import os
import time

import pytest

from serverlib import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, error_codes, raw, request, sha256
from test_api import push_blob, push_image


@pytest.fixture
def seeded(server):
    """A server holding one image, and a snapshot of its blobs' bytes to compare afterwards."""
    digest, _ = push_image(server, "seed", "v1")
    before = snapshot(server)
    yield server
    assert server.alive(), server.log()
    assert request("GET", f"{server.url}/v2/")[0] == 200
    after = snapshot(server)
    for name, data in before.items():
        assert after[name] == data, f"stored blob {name} changed"
    server.verify_store()
    assert request("GET", f"{server.url}/v2/seed/manifests/{digest}")[0] == 200


def snapshot(server):
    d = os.path.join(server.root, "content", "blobs", "sha256")
    return {n: open(os.path.join(d, n), "rb").read() for n in os.listdir(d)}


def expect_error(response, status, code):
    got, headers, body = response
    assert got == status, body
    assert headers["Content-Type"] == "application/json"
    assert code in error_codes(body)
    assert json.loads(body)["errors"][0]["message"]


def test_garbage_with_a_claimed_digest(seeded):
    s = seeded
    claimed = sha256(b"the real content")
    files = s.blob_files()
    expect_error(request("POST", f"{s.url}/v2/seed/blobs/uploads/?digest={claimed}", body=b"garbage"), 400, "DIGEST_INVALID")
    _, headers, _ = request("POST", f"{s.url}/v2/seed/blobs/uploads/")
    location = s.url + headers["Location"]
    request("PATCH", location, body=b"more garbage", headers={"Content-Type": "application/octet-stream"})
    expect_error(request("PUT", f"{location}?digest={claimed}"), 400, "DIGEST_INVALID")
    expect_error(request("GET", f"{s.url}/v2/seed/blobs/{claimed}"), 404, "BLOB_UNKNOWN")
    assert s.blob_files() == files
    # Unsupported or malformed digests.
    expect_error(request("POST", f"{s.url}/v2/seed/blobs/uploads/?digest=sha512:{'a' * 128}", body=b"x"), 400, "DIGEST_INVALID")
    expect_error(request("POST", f"{s.url}/v2/seed/blobs/uploads/?digest=sha256:XYZ", body=b"x"), 400, "DIGEST_INVALID")
    assert s.blob_files() == files


def test_patch_stream_cut_off_mid_way(seeded):
    s = seeded
    data = os.urandom(3 << 20)
    _, headers, _ = request("POST", f"{s.url}/v2/seed/blobs/uploads/")
    path = headers["Location"]
    head = (f"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    raw(s.port, head + data[:1 << 20], read=False)
    time.sleep(0.5)
    status, headers, _ = request("GET", s.url + path)
    assert status == 204
    offset = int(headers["Range"].split("-")[1]) + 1
    assert 0 < offset <= 1 << 20
    assert sha256(data).split(":")[1] not in s.blob_files()
    # The client resumes where the server stands.
    status, _, _ = request("PATCH", s.url + path, body=data[offset:],
                           headers={"Content-Range": f"{offset}-{len(data) - 1}", "Content-Type": "application/octet-stream"})
    assert status == 202
    assert request("PUT", f"{s.url}{path}?digest={sha256(data)}")[0] == 201
    assert request("GET", f"{s.url}/v2/seed/blobs/{sha256(data)}")[2] == data


def test_out_of_order_content_range(seeded):
    s = seeded
    _, headers, _ = request("POST", f"{s.url}/v2/seed/blobs/uploads/")
    location = s.url + headers["Location"]
    assert request("PATCH", location, body=b"0123456789", headers={"Content-Range": "0-9", "Content-Type": "application/octet-stream"})[0] == 202
    expect_error(request("PATCH", location, body=b"abcdefghij", headers={"Content-Range": "20-29", "Content-Type": "application/octet-stream"}),
                 416, "BLOB_UPLOAD_INVALID")
    expect_error(request("PATCH", location, body=b"abcdefghij", headers={"Content-Range": "0-9", "Content-Type": "application/octet-stream"}),
                 416, "BLOB_UPLOAD_INVALID")
    expect_error(request("PATCH", location, body=b"abc", headers={"Content-Range": "10-19", "Content-Type": "application/octet-stream"}),
                 416, "BLOB_UPLOAD_INVALID")
    # The session still holds exactly the in-order bytes.
    assert request("GET", location)[1]["Range"] == "0-9"


def test_bad_manifests(seeded):
    s = seeded
    config = push_blob(s, "seed", b"{}")
    config["mediaType"] = OCI_CONFIG
    missing = {"mediaType": OCI_LAYER, "digest": sha256(b"never pushed"), "size": 12}
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [missing]}
    put = lambda body, ctype=OCI_MANIFEST, ref="bad": request("PUT", f"{s.url}/v2/seed/manifests/{ref}", body=body, headers={"Content-Type": ctype})
    expect_error(put(json.dumps(manifest).encode()), 400, "MANIFEST_BLOB_UNKNOWN")
    manifest["layers"] = []
    good = json.dumps(manifest).encode()
    expect_error(put(good, ctype=OCI_INDEX), 400, "MANIFEST_INVALID")
    expect_error(put(json.dumps(dict(manifest, manifests=[])).encode()), 400, "MANIFEST_INVALID")
    expect_error(put(b"{not json"), 400, "MANIFEST_INVALID")
    expect_error(put(json.dumps(dict(manifest, schemaVersion=1)).encode()), 400, "MANIFEST_INVALID")
    expect_error(put(good, ctype="application/vnd.docker.distribution.manifest.v1+prettyjws"), 400, "MANIFEST_INVALID")
    expect_error(put(b" " * (5 << 20)), 413, "MANIFEST_INVALID")
    expect_error(put(good, ref=sha256(b"other bytes")), 400, "DIGEST_INVALID")
    assert json.loads(request("GET", f"{s.url}/v2/seed/tags/list")[2])["tags"] == ["v1"]


def test_bad_names_and_unknown_references(seeded):
    s = seeded
    digest = sha256(b"x")
    for path in ["/v2/Seed/tags/list", "/v2/seed/UPPER/manifests/v1", "/v2/a..b/blobs/" + digest]:
        expect_error(raw_request(s, "GET", path), 400, "NAME_INVALID")
    expect_error(request("GET", f"{s.url}/v2/seed/manifests/nope"), 404, "MANIFEST_UNKNOWN")
    expect_error(request("GET", f"{s.url}/v2/seed/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    expect_error(request("GET", f"{s.url}/v2/seed/blobs/uploads/{'0' * 32}"), 404, "BLOB_UPLOAD_UNKNOWN")
    expect_error(request("PUT", f"{s.url}/v2/seed/manifests/bad..tag!", body=b"{}"), 400, "TAG_INVALID")
    expect_error(request("POST", f"{s.url}/v2/seed/tags/list"), 405, "UNSUPPORTED")


def raw_request(s, method, path, body=b"", headers=""):
    data = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{headers}Connection: close\r\n\r\n".encode() + body
    status, answer = raw(s.port, data)
    return status, {"Content-Type": "application/json"}, answer


TRAVERSALS = ["..", "../..", "%2e%2e", "%2e%2e%2f%2e%2e", "..%2f..%2fetc", "/etc/passwd", "sha256:..%2f..", "a/../../b"]


def test_path_traversal_in_every_parameter(seeded):
    s = seeded
    outside = os.path.dirname(s.root)
    entries = set(os.listdir(outside))
    digest = sha256(b"x")
    for t in TRAVERSALS:
        paths = [f"/v2/{t}/tags/list", f"/v2/{t}/manifests/v1", f"/v2/seed/manifests/{t}", f"/v2/{t}/blobs/{digest}",
                 f"/v2/seed/blobs/{t}", f"/v2/seed/blobs/uploads/{t}", f"/v2/{t}/blobs/uploads/", f"/v2/seed/referrers/{t}",
                 f"/v2/seed/blobs/uploads/?mount={digest}&from={t}", f"/v2/seed/blobs/uploads/?digest={t}"]
        for path in paths:
            for method in ["GET", "PUT", "DELETE", "POST", "PATCH"]:
                status, _, body = raw_request(s, method, path, body=b"{}")
                assert status in (400, 404, 405, 416), (method, path, status)
                if status != 400 or body:
                    assert json.loads(body)["errors"], (method, path)
    assert set(os.listdir(outside)) == entries
    assert not os.path.exists(os.path.join(s.root, "repositories", "etc"))


def test_malformed_http_and_slow_clients(seeded):
    s = seeded
    assert raw(s.port, b"NOT HTTP AT ALL\r\n\r\n")[0] in (0, 400)
    assert raw(s.port, b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")[0] in (0, 400)
    raw(s.port, b"PUT /v2/seed/manifests/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", read=False)
    assert json.loads(request("GET", f"{s.url}/v2/seed/tags/list")[2])["tags"] == ["v1"]


def test_wrong_password(tmp_path):
    bcrypt = pytest.importorskip("bcrypt")
    from serverlib import Server
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("bob:" + bcrypt.hashpw(b"right", bcrypt.gensalt(rounds=4)).decode() + "\n")
    s = Server(htpasswd=str(htpasswd))
    try:
        s.start()
        import base64
        for creds in [b"bob:wrong", b"alice:right", b"bob", b""]:
            auth = {"Authorization": "Basic " + base64.b64encode(creds).decode()}
            status, headers, body = request("POST", f"{s.url}/v2/x/blobs/uploads/?digest={sha256(b'a')}", body=b"a", headers=auth)
            assert status == 401 and "Basic realm" in headers["WWW-Authenticate"] and error_codes(body) == ["UNAUTHORIZED"]
        assert request("GET", f"{s.url}/v2/", headers={"Authorization": "Bearer abc"})[0] == 401
        ok = {"Authorization": "Basic " + base64.b64encode(b"bob:right").decode()}
        assert request("GET", f"{s.url}/v2/", headers=ok)[0] == 200
        assert s.blob_files() == []
    finally:
        s.cleanup()
