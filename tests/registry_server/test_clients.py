"""berth-registry beside Debian's docker-registry on the same requests, the docker CLI
pushing to and pulling from berth-registry through a private dockerd, and podman doing the
same with a private store."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from serverlib import DistributionRegistry, Server, request, sha256, skopeo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from berth_testlib import make_busybox_tar  # noqa: E402


@pytest.fixture
def distribution():
    if not shutil.which("docker-registry"):
        pytest.skip("Debian's docker-registry is not installed (scripts/install-deps.sh)")
    d = DistributionRegistry()
    try:
        yield d.start()
    finally:
        d.cleanup()


def codes(body):
    try:
        return [e["code"] for e in json.loads(body)["errors"]]
    except ValueError:
        return body.decode(errors="replace").strip()


def observe(registry, layout):
    """What a client sees of `registry` after the same push and the same hostile requests."""
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{registry.address}/cmp/app:v1")
    u = registry.url
    manifest = request("GET", f"{u}/v2/cmp/app/manifests/v1", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    _, up, _ = request("POST", f"{u}/v2/cmp/app/blobs/uploads/")
    location = up["Location"] if up["Location"].startswith("http") else u + up["Location"]
    request("PATCH", location, body=b"0123456789", headers={"Content-Type": "application/octet-stream", "Content-Range": "0-9"})
    cases = {
        "unknown blob": request("GET", f"{u}/v2/cmp/app/blobs/{sha256(b'none')}"),
        "unknown manifest": request("GET", f"{u}/v2/cmp/app/manifests/nope"),
        "unknown repository tags": request("GET", f"{u}/v2/cmp/none/tags/list"),
        "uppercase name": request("GET", f"{u}/v2/cmp/App/tags/list"),
        "garbage for a digest": request("POST", f"{u}/v2/cmp/app/blobs/uploads/?digest={sha256(b'real')}", body=b"fake",
                                        headers={"Content-Type": "application/octet-stream"}),
        "missing blobs in manifest": request("PUT", f"{u}/v2/cmp/app/manifests/bad", headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                                             body=json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(b"c"), "size": 1},
                                                              "layers": []}).encode()),
        "out-of-order chunk": request("PATCH", location, body=b"abc", headers={"Content-Type": "application/octet-stream", "Content-Range": "50-52"}),
    }
    return {
        "manifest status": manifest[0],
        "manifest digest": manifest[1]["Docker-Content-Digest"],
        "manifest type": manifest[1]["Content-Type"],
        "tags": json.loads(request("GET", f"{u}/v2/cmp/app/tags/list")[2]),
        "catalog": json.loads(request("GET", f"{u}/v2/_catalog")[2]),
        **{name: (status, codes(body)) for name, (status, _, body) in cases.items()},
    }


def test_same_answers_as_docker_registry(server, distribution, image_layout):
    layout, _ = image_layout
    ours, theirs = observe(server, layout), observe(distribution, layout)
    differences = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    # Where Docker's registry departs from the spec, berth-registry follows the spec:
    known = {
        # distribution ignores a monolithic POST body and opens a session (202); the spec
        # ("Pushing a blob monolithically", POST then PUT is one way, POST with ?digest= another) verifies it.
        "garbage for a digest": ((400, ["DIGEST_INVALID"]), (202, "")),
        # its router does not match an uppercase name at all; the spec's error is NAME_INVALID.
        "uppercase name": ((400, ["NAME_INVALID"]), (404, "404 page not found")),
        # it answers an out-of-order chunk with 404 (and drops the session); the spec says 416.
        "out-of-order chunk": ((416, ["BLOB_UPLOAD_INVALID"]), (404, ["BLOB_UPLOAD_INVALID"])),
    }
    assert {k: v for k, v in differences.items() if known.get(k) != v} == {}
    assert ours["missing blobs in manifest"] == (400, ["MANIFEST_BLOB_UNKNOWN"])


def test_docker_push_and_pull(server, tmp_path):
    if not shutil.which("dockerd") or not shutil.which("docker"):
        pytest.skip("dockerd and docker are not installed")
    work = tempfile.mkdtemp(prefix="brd-", dir="/tmp")
    sock = os.path.join(work, "docker.sock")
    proc = subprocess.Popen(["dockerd", "--host", "unix://" + sock, "--data-root", os.path.join(work, "data"),
                             "--exec-root", os.path.join(work, "exec"), "--pidfile", os.path.join(work, "docker.pid"),
                             "--bridge", "none", "--iptables=false"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DOCKER_HOST="unix://" + sock)

    def docker(*args, check=True):
        r = subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=180)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {r.stderr}")
        return r

    try:
        for _ in range(150):
            if docker("version", check=False).returncode == 0:
                break
            time.sleep(0.2)
        else:
            pytest.skip("the private dockerd did not start")
        tar = make_busybox_tar(str(tmp_path))
        image = f"{server.address}/docker/busybox:v1"
        subprocess.run(["docker", "import", tar, image], env=env, check=True, capture_output=True)
        pushed = docker("push", image).stdout
        assert "digest: sha256:" in pushed
        digest = pushed.split("digest: ")[1].split()[0]
        docker("rmi", image)
        docker("pull", image)
        assert docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", image).stdout.strip().endswith(digest)
        status, headers, _ = request("HEAD", f"{server.url}/v2/docker/busybox/manifests/v1")
        assert status == 200 and headers["Docker-Content-Digest"] == digest
        server.verify_store()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        subprocess.run(["umount", "-R", work], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def test_podman_push_and_pull(server, tmp_path):
    if not shutil.which("podman"):
        pytest.skip("podman is not installed")
    work = tempfile.mkdtemp(prefix="brp-", dir="/tmp")
    # Private storage (vfs: no mounts to clean up), so the host's podman store is untouched.
    base = ["podman", "--root", os.path.join(work, "root"), "--runroot", os.path.join(work, "run"),
            "--storage-driver", "vfs", "--events-backend", "none"]

    def podman(*args):
        r = subprocess.run(base + list(args), capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, f"podman {' '.join(args)}: {r.stderr}"
        return r

    try:
        tar = make_busybox_tar(str(tmp_path))
        image = f"{server.address}/podman/busybox:v1"
        podman("import", tar, image)
        podman("push", "--tls-verify=false", image)
        status, headers, _ = request("HEAD", f"{server.url}/v2/podman/busybox/manifests/v1")
        assert status == 200
        digest = headers["Docker-Content-Digest"]
        podman("rmi", image)
        podman("pull", "--tls-verify=false", image)
        pulled = podman("image", "inspect", "--format", "{{.Digest}}", image).stdout.strip()
        assert pulled == digest
        server.verify_store()
    finally:
        subprocess.run(base + ["system", "reset", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)


def test_copy_between_docker_registry_and_berth_registry(server, distribution, image_layout):
    layout, manifest_digest = image_layout
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{distribution.address}/src/app:v1")
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
           f"docker://{distribution.address}/src/app:v1", f"docker://{server.address}/dst/app:v1")
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
           f"docker://{server.address}/dst/app:v1", f"docker://{distribution.address}/back/app:v1")
    for registry, repo in [(server, "dst/app"), (distribution, "back/app")]:
        info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{registry.address}/{repo}:v1").stdout)
        assert info["Digest"] == manifest_digest
