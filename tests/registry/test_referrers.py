"""Artifacts that refer to images (distribution-spec v1.1 referrers): `berth image attach` pushes
a file as an artifact manifest whose subject is an image's manifest, `berth image referrers`
lists them. Against Berth's registry, which has the referrers API, and Debian's docker-registry
2.8, which has not: there the client keeps the referrers tag (`sha256-<hex>`) itself, as the
spec asks. Checked on the wire with plain HTTP, not only through Berth's own output."""
import hashlib
import json
import os
import sys

import pytest

from .conftest import OCI_INDEX, OCI_MANIFEST, http_request, require_tools, sha256_digest
from .test_pull import text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "registry_server"))
from serverlib import Server  # noqa: E402

SBOM_TYPE = "application/spdx+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1"


@pytest.fixture(scope="module")
def berth_registry():
    require_tools()
    server = Server()
    try:
        yield server.start()
    finally:
        server.cleanup()


@pytest.fixture(params=["docker-registry", "berth-registry"])
def target(request, registry, berth_registry):
    """(host, whether it has the referrers API)."""
    if request.param == "docker-registry":
        return registry.host, False
    return berth_registry.address, True


def pushed_image(daemon, busybox_tar, host, repo):
    """busybox imported into berthd and pushed to host/repo:1; returns (reference, manifest digest)."""
    ref = f"{host}/{repo}:1"
    daemon.berth("import", busybox_tar, ref, check=True)
    daemon.berth("push", ref, check=True, timeout=120)
    status, headers, _ = http_request(f"http://{host}/v2/{repo}/manifests/1", method="HEAD",
                                      headers={"Accept": f"{OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json"})
    assert status == 200, status
    return ref, headers["docker-content-digest"]


def get_json(url, accept=None):
    status, headers, body = http_request(url, headers={"Accept": accept} if accept else None)
    return status, (json.loads(body) if status == 200 else None)


def attach(daemon, ref, path, artifact_type, *flags):
    r = daemon.berth("image", "attach", "--artifact-type", artifact_type, *flags, ref, path)
    assert r.returncode == 0, text(r)
    digest = r.stdout.decode().strip()
    assert digest.startswith("sha256:") and len(digest) == 71, digest
    return digest


def test_attach_and_list_referrers(daemon, busybox_tar, workdir, repo, target):
    host, has_api = target
    ref, subject = pushed_image(daemon, busybox_tar, host, repo)
    sbom_path = os.path.join(workdir, "sbom.spdx.json")
    sbom = json.dumps({"spdxVersion": "SPDX-2.3", "name": repo}).encode()
    with open(sbom_path, "wb") as f:
        f.write(sbom)
    sbom_digest = attach(daemon, ref, sbom_path, SBOM_TYPE, "--media-type", "application/spdx+json",
                         "--annotation", "org.example.origin=test")
    signature_path = os.path.join(workdir, "signature.bin")
    with open(signature_path, "wb") as f:
        f.write(os.urandom(512))
    signature_digest = attach(daemon, ref, signature_path, SIGNATURE_TYPE)

    # The artifact manifest as stored: the empty config, the file as its layer, the image as subject.
    status, manifest = get_json(f"http://{host}/v2/{repo}/manifests/{sbom_digest}", OCI_MANIFEST)
    assert status == 200
    assert manifest["artifactType"] == SBOM_TYPE and manifest["mediaType"] == OCI_MANIFEST
    assert manifest["subject"]["digest"] == subject
    assert manifest["config"] == {"mediaType": "application/vnd.oci.empty.v1+json",
                                  "digest": sha256_digest(b"{}"), "size": 2}
    [layer] = manifest["layers"]
    assert layer["digest"] == "sha256:" + hashlib.sha256(sbom).hexdigest() and layer["size"] == len(sbom)
    assert layer["mediaType"] == "application/spdx+json"
    assert layer["annotations"]["org.opencontainers.image.title"] == "sbom.spdx.json"
    assert manifest["annotations"]["org.example.origin"] == "test"
    assert "org.opencontainers.image.created" in manifest["annotations"]
    status, _, body = http_request(f"http://{host}/v2/{repo}/blobs/{layer['digest']}")
    assert status == 200 and body == sbom

    # Where the registry keeps the list: its API, or the referrers tag the client maintains.
    tag = subject.replace(":", "-")
    api_status, api_list = get_json(f"http://{host}/v2/{repo}/referrers/{subject}", OCI_INDEX)
    tag_status, tag_list = get_json(f"http://{host}/v2/{repo}/manifests/{tag}", OCI_INDEX)
    if has_api:
        assert api_status == 200 and tag_status == 404, "a registry with the API needs no referrers tag"
        listed = api_list
    else:
        assert api_status == 404 and tag_status == 200
        listed = tag_list
    assert listed["mediaType"] == OCI_INDEX
    entries = {m["digest"]: m for m in listed["manifests"]}
    assert set(entries) == {sbom_digest, signature_digest}
    assert entries[sbom_digest]["artifactType"] == SBOM_TYPE
    assert entries[signature_digest]["artifactType"] == SIGNATURE_TYPE

    # Berth's listing, whole and filtered.
    r = daemon.berth("image", "referrers", ref)
    assert r.returncode == 0, text(r)
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["DIGEST", "ARTIFACT", "TYPE", "SIZE", "CREATED"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows == {sbom_digest: SBOM_TYPE, signature_digest: SIGNATURE_TYPE}
    r = daemon.berth("image", "referrers", "-q", "--artifact-type", SIGNATURE_TYPE, ref)
    assert r.returncode == 0 and r.stdout.decode().split() == [signature_digest], text(r)
    r = daemon.berth("image", "referrers", "-q", f"{host}/{repo}@{subject}")
    assert r.returncode == 0 and sorted(r.stdout.decode().split()) == sorted([sbom_digest, signature_digest]), text(r)

    # Attaching the same file again changes nothing but the creation time; the tag lists each once.
    again = attach(daemon, ref, signature_path, SIGNATURE_TYPE, "--annotation", "org.opencontainers.image.created=2026-01-01T00:00:00Z")
    r = daemon.berth("image", "referrers", "-q", ref)
    assert sorted(r.stdout.decode().split()) == sorted({sbom_digest, signature_digest, again})


def test_attach_reads_the_file_from_stdin(daemon, busybox_tar, repo, berth_registry):
    host = berth_registry.address
    ref, subject = pushed_image(daemon, busybox_tar, host, repo)
    content = b"signed by nobody\n"
    r = daemon.berth("image", "attach", "--artifact-type", SIGNATURE_TYPE, ref, "-", input=content)
    assert r.returncode == 0, text(r)
    digest = r.stdout.decode().strip()
    status, manifest = get_json(f"http://{host}/v2/{repo}/manifests/{digest}", OCI_MANIFEST)
    assert status == 200 and manifest["subject"]["digest"] == subject
    [layer] = manifest["layers"]
    assert "annotations" not in layer, "stdin has no file name to title the layer with"
    status, _, body = http_request(f"http://{host}/v2/{repo}/blobs/{layer['digest']}")
    assert status == 200 and body == content


def test_an_image_without_referrers_lists_none(daemon, busybox_tar, repo, target):
    host, _ = target
    ref, _ = pushed_image(daemon, busybox_tar, host, repo)
    r = daemon.berth("image", "referrers", ref)
    assert r.returncode == 0, text(r)
    assert r.stdout.decode().splitlines() == [r.stdout.decode().splitlines()[0]]


def test_attach_to_an_image_that_is_not_there(daemon, workdir, repo, target):
    host, _ = target
    path = os.path.join(workdir, "file")
    with open(path, "wb") as f:
        f.write(b"content")
    r = daemon.berth("image", "attach", "--artifact-type", SBOM_TYPE, f"{host}/{repo}:missing", path)
    assert r.returncode != 0, text(r)
    assert "manifest unknown" in r.stderr.decode().lower() or "not found" in r.stderr.decode().lower(), text(r)
    status, _, _ = http_request(f"http://{host}/v2/{repo}/tags/list")
    assert status == 404, "the failed attach left something in the repository"
    r = daemon.berth("image", "referrers", f"{host}/{repo}:missing")
    assert r.returncode != 0 and "manifest unknown" in r.stderr.decode().lower(), text(r)
    r = daemon.berth("image", "referrers", "Not A Reference!")
    assert r.returncode != 0 and "invalid reference format" in r.stderr.decode(), text(r)


@pytest.mark.parametrize("flags, message", [
    (["--artifact-type", "not a media type"], "invalid artifactType"),
    (["--artifact-type", SBOM_TYPE, "--media-type", "text"], "invalid mediaType"),
    (["--artifact-type", SBOM_TYPE, "--annotation", "=value"], "KEY=VALUE"),
])
def test_bad_attach_requests_are_refused_before_the_registry(daemon, hostile, workdir, repo, flags, message):
    path = os.path.join(workdir, "file")
    with open(path, "wb") as f:
        f.write(b"content")
    r = daemon.berth("image", "attach", *flags, hostile.ref(repo), path)
    assert r.returncode != 0, text(r)
    assert message in r.stderr.decode(), text(r)
    assert hostile.requests == [], "a refused request reached the registry"


def test_a_referrers_answer_that_is_not_an_index_is_refused(daemon, hostile, busybox_tar, workdir, repo):
    from .test_pull import small_layout
    layout = small_layout(workdir, busybox_tar)
    hostile.serve_layout(layout, repo)
    ref = hostile.ref(repo)
    subject = layout.digest
    hostile.put_referrers(repo, subject, b"<html>not json</html>")
    r = daemon.berth("image", "referrers", ref)
    assert r.returncode != 0 and "not an OCI image index" in r.stderr.decode(), text(r)
    hostile.put_referrers(repo, subject, json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                     "manifests": [{"digest": "sha256:nothex"}]}).encode())
    r = daemon.berth("image", "referrers", ref)
    assert r.returncode != 0 and "not an OCI image index" in r.stderr.decode(), text(r)
    hostile.put_referrers(repo, subject, b"{" + b" " * (5 << 20) + b"}")
    r = daemon.berth("image", "referrers", ref)
    assert r.returncode != 0 and "exceeds its size limit" in r.stderr.decode(), text(r)
    # A good answer after all that is listed.
    listed = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 10, "artifactType": SBOM_TYPE}]}
    hostile.put_referrers(repo, subject, json.dumps(listed).encode())
    r = daemon.berth("image", "referrers", "-q", ref)
    assert r.returncode == 0 and r.stdout.decode().split() == ["sha256:" + "a" * 64], text(r)


def test_the_referrers_endpoints_through_docker_py(daemon, busybox_tar, workdir, repo, berth_registry):
    """Berth's two endpoints driven with the Python docker SDK's low-level client: a bad request
    gets docker's JSON error and 400, a good one the documented shapes."""
    import docker
    api = daemon.client().api
    ref, subject = pushed_image(daemon, busybox_tar, berth_registry.address, repo)
    url = api._url("/distribution/{0}/referrers", ref)
    for params, data, message in [({}, b"x", "artifactType is required"),
                                  ({"artifactType": "text/plain"}, b"", "no artifact content"),
                                  ({"artifactType": "text plain"}, b"x", "invalid artifactType"),
                                  ({"artifactType": "text/plain", "annotation": "novalue"}, b"x", "KEY=VALUE")]:
        with pytest.raises(docker.errors.APIError) as caught:
            api._result(api._post(url, params=params, data=data), json=True)
        assert caught.value.status_code == 400 and message in caught.value.explanation, caught.value
    created = api._result(api._post(url, params={"artifactType": "text/plain", "annotation": "k=v"}, data=b"note"), json=True)
    descriptor = created["Descriptor"]
    assert descriptor["artifactType"] == "text/plain" and descriptor["annotations"] == {"k": "v"}
    listed = api._result(api._get(url), json=True)
    assert listed["Descriptor"]["digest"] == subject and listed["ReferrersAPI"] is True
    assert [r["digest"] for r in listed["Referrers"]] == [descriptor["digest"]]
    with pytest.raises(docker.errors.APIError) as caught:
        api._result(api._get(api._url("/distribution/{0}/referrers", "Not A Reference!")), json=True)
    assert caught.value.status_code == 400
