"""The distribution API over plain HTTP: uploads (monolithic, chunked, resumable, mounted),
blob reads with ranges, tag and catalog pagination, manifests by tag and digest, referrers."""
import json

from serverlib import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, error_codes, request, sha256


def push_blob(server, repo, data):
    digest = sha256(data)
    status, headers, _ = request("POST", f"{server.url}/v2/{repo}/blobs/uploads/?digest={digest}", body=data,
                                 headers={"Content-Type": "application/octet-stream"})
    assert status == 201, status
    assert headers["Docker-Content-Digest"] == digest
    return {"mediaType": OCI_LAYER, "digest": digest, "size": len(data)}


def push_image(server, repo, tag, layers=(b"layer one",), extra=None):
    config = push_blob(server, repo, b'{"architecture":"amd64","os":"linux"}')
    config["mediaType"] = OCI_CONFIG
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                "layers": [push_blob(server, repo, layer) for layer in layers]}
    manifest.update(extra or {})
    body = json.dumps(manifest).encode()
    status, headers, answer = request("PUT", f"{server.url}/v2/{repo}/manifests/{tag}", body=body, headers={"Content-Type": OCI_MANIFEST})
    assert status == 201, answer
    return headers["Docker-Content-Digest"], body


def test_version_check_and_api_header(server):
    status, headers, body = request("GET", f"{server.url}/v2/")
    assert status == 200 and json.loads(body) == {}
    assert headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_chunked_upload_with_status_and_resume(server):
    data = bytes(range(256)) * 4096
    status, headers, _ = request("POST", f"{server.url}/v2/chunks/blobs/uploads/")
    assert status == 202 and headers["Range"] == "0-0"
    location = server.url + headers["Location"]
    assert headers["Docker-Upload-UUID"] in location
    offset = 0
    for piece in [data[:100000], data[100000:700000], data[700000:]]:
        end = offset + len(piece) - 1
        status, headers, _ = request("PATCH", location, body=piece,
                                     headers={"Content-Range": f"{offset}-{end}", "Content-Type": "application/octet-stream"})
        assert status == 202 and headers["Range"] == f"0-{end}"
        offset += len(piece)
        status, headers, _ = request("GET", location)
        assert status == 204 and headers["Range"] == f"0-{offset - 1}"
    status, headers, _ = request("PUT", f"{location}?digest={sha256(data)}")
    assert status == 201 and headers["Location"] == f"/v2/chunks/blobs/{sha256(data)}"
    status, headers, body = request("GET", f"{server.url}/v2/chunks/blobs/{sha256(data)}")
    assert status == 200 and body == data and headers["Docker-Content-Digest"] == sha256(data)
    # The finished session is gone.
    status, _, body = request("GET", location)
    assert status == 404 and error_codes(body) == ["BLOB_UPLOAD_UNKNOWN"]


def test_put_with_whole_body_and_cancel(server):
    data = b"monolithic in the final PUT"
    _, headers, _ = request("POST", f"{server.url}/v2/mono/blobs/uploads/")
    status, _, _ = request("PUT", f"{server.url}{headers['Location']}?digest={sha256(data)}", body=data,
                           headers={"Content-Type": "application/octet-stream"})
    assert status == 201
    _, headers, _ = request("POST", f"{server.url}/v2/mono/blobs/uploads/")
    location = server.url + headers["Location"]
    request("PATCH", location, body=b"abandoned", headers={"Content-Type": "application/octet-stream"})
    assert request("DELETE", location)[0] == 204
    assert request("GET", location)[0] == 404
    assert server.blob_files() == [sha256(data).split(":")[1]]


def test_blob_ranges_head_and_delete(server):
    data = bytes(range(256)) * 40
    digest = push_blob(server, "ranges", data)["digest"]
    url = f"{server.url}/v2/ranges/blobs/{digest}"
    status, headers, body = request("HEAD", url)
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(data))
    status, headers, body = request("GET", url, headers={"Range": "bytes=10-19"})
    assert status == 206 and body == data[10:20] and headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    status, _, body = request("GET", url, headers={"Range": "bytes=10000-"})
    assert status == 206 and body == data[10000:]
    status, _, body = request("GET", url, headers={"Range": "bytes=-5"})
    assert status == 206 and body == data[-5:]
    status, headers, _ = request("GET", url, headers={"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"
    assert request("DELETE", url)[0] == 202
    status, _, body = request("GET", url)
    assert status == 404 and error_codes(body) == ["BLOB_UNKNOWN"]


def test_cross_repository_mount(server):
    digest = push_blob(server, "source/repo", b"shared layer")["digest"]
    status, headers, _ = request("POST", f"{server.url}/v2/target/blobs/uploads/?mount={digest}&from=source/repo")
    assert status == 201 and headers["Docker-Content-Digest"] == digest
    assert request("HEAD", f"{server.url}/v2/target/blobs/{digest}")[0] == 200
    # Without the blob in the source, a normal upload session starts.
    missing = sha256(b"absent")
    status, headers, _ = request("POST", f"{server.url}/v2/target/blobs/uploads/?mount={missing}&from=source/repo")
    assert status == 202 and "/blobs/uploads/" in headers["Location"]
    # A repository that never held the blob cannot serve it, though the store has it once.
    assert request("HEAD", f"{server.url}/v2/elsewhere/blobs/{digest}")[0] == 404
    assert len(server.blob_files()) == 1


def test_manifests_by_tag_and_digest(server):
    digest, body = push_image(server, "app", "v1")
    for reference in ["v1", digest]:
        status, headers, answer = request("GET", f"{server.url}/v2/app/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        assert status == 200 and answer == body
        assert headers["Content-Type"] == OCI_MANIFEST and headers["Docker-Content-Digest"] == digest
    status, _, answer = request("GET", f"{server.url}/v2/app/manifests/v2")
    assert status == 404 and error_codes(answer) == ["MANIFEST_UNKNOWN"]
    status, _, answer = request("GET", f"{server.url}/v2/app/manifests/{sha256(b'nothing')}")
    assert status == 404 and error_codes(answer) == ["MANIFEST_UNKNOWN"]
    # Pushing by digest checks the bytes against it.
    status, _, _ = request("PUT", f"{server.url}/v2/app/manifests/{digest}", body=body, headers={"Content-Type": OCI_MANIFEST})
    assert status == 201
    # Deleting a tag leaves the manifest; deleting the digest removes it.
    assert request("DELETE", f"{server.url}/v2/app/manifests/v1")[0] == 202
    assert request("GET", f"{server.url}/v2/app/manifests/{digest}")[0] == 200
    assert request("DELETE", f"{server.url}/v2/app/manifests/{digest}")[0] == 202
    assert request("GET", f"{server.url}/v2/app/manifests/{digest}")[0] == 404


def test_index_needs_its_manifests(server):
    digest, body = push_image(server, "multi", "amd64")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body), "platform": {"os": "linux", "architecture": "amd64"}}]}
    data = json.dumps(index).encode()
    status, _, answer = request("PUT", f"{server.url}/v2/other/manifests/latest", body=data, headers={"Content-Type": OCI_INDEX})
    assert status == 400 and error_codes(answer) == ["MANIFEST_BLOB_UNKNOWN"]
    status, _, _ = request("PUT", f"{server.url}/v2/multi/manifests/latest", body=data, headers={"Content-Type": OCI_INDEX})
    assert status == 201
    status, headers, _ = request("GET", f"{server.url}/v2/multi/manifests/latest")
    assert status == 200 and headers["Content-Type"] == OCI_INDEX


def test_tags_and_catalog_pagination(server):
    for repo in ["r/a", "r/b", "r/c"]:
        push_blob(server, repo, b"x")
    for tag in ["t3", "t1", "t2", "t4", "t5"]:
        push_image(server, "r/a", tag)
    status, headers, body = request("GET", f"{server.url}/v2/r/a/tags/list?n=2")
    assert status == 200 and json.loads(body) == {"name": "r/a", "tags": ["t1", "t2"]}
    assert headers["Link"] == '</v2/r/a/tags/list?n=2&last=t2>; rel="next"'
    _, headers, body = request("GET", f"{server.url}/v2/r/a/tags/list?n=2&last=t2")
    assert json.loads(body)["tags"] == ["t3", "t4"]
    _, headers, body = request("GET", f"{server.url}/v2/r/a/tags/list?n=2&last=t4")
    assert json.loads(body)["tags"] == ["t5"] and headers["Link"] is None
    status, _, body = request("GET", f"{server.url}/v2/r/none/tags/list")
    assert status == 404 and error_codes(body) == ["NAME_UNKNOWN"]
    _, headers, body = request("GET", f"{server.url}/v2/_catalog?n=2")
    assert json.loads(body) == {"repositories": ["r/a", "r/b"]}
    assert headers["Link"] == '</v2/_catalog?n=2&last=r%2Fb>; rel="next"'
    _, _, body = request("GET", f"{server.url}/v2/_catalog?n=2&last=r/b")
    assert json.loads(body) == {"repositories": ["r/c"]}


def test_referrers(server):
    digest, body = push_image(server, "signed", "v1")
    subject = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body)}
    sig_digest, _ = push_image(server, "signed", sha256(b"unused").replace(":", "-")[:60], layers=(b"signature",),
                               extra={"artifactType": "application/vnd.example.sig", "subject": subject})
    status, headers, answer = request("GET", f"{server.url}/v2/signed/referrers/{digest}")
    assert status == 200 and headers["Content-Type"] == OCI_INDEX
    found = json.loads(answer)["manifests"]
    assert [m["digest"] for m in found] == [sig_digest] and found[0]["artifactType"] == "application/vnd.example.sig"
    _, headers, answer = request("GET", f"{server.url}/v2/signed/referrers/{digest}?artifactType=application/other")
    assert json.loads(answer)["manifests"] == [] and headers["OCI-Filters-Applied"] == "artifactType"
