"""Many clients at once, big blobs streamed with bounded memory, and `berth registry gc`/`serve`
through the berth CLI (which execs berth-registry)."""
import hashlib
import http.client
import os
import subprocess
import threading

from serverlib import Server, binary, request, sha256, skopeo
from test_api import push_blob, push_image


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def test_many_clients_at_once(server):
    errors = []

    def client(i):
        try:
            data = os.urandom(256 << 10) + str(i).encode()
            _, headers, _ = request("POST", f"{server.url}/v2/many/c{i % 4}/blobs/uploads/")
            location = server.url + headers["Location"]
            assert request("PATCH", location, body=data, headers={"Content-Type": "application/octet-stream"})[0] == 202
            assert request("PUT", f"{location}?digest={sha256(data)}")[0] == 201
            for _ in range(3):
                assert request("GET", f"{server.url}/v2/many/c{i % 4}/blobs/{sha256(data)}")[2] == data
        except Exception as e:  # noqa: BLE001 - reported below with the client's number
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert server.verify_store() == 48


def stream_upload(server, repo, size):
    """PATCHes `size` random bytes in 1 MiB writes without holding them; returns the digest."""
    _, headers, _ = request("POST", f"{server.url}/v2/{repo}/blobs/uploads/")
    path = headers["Location"]
    h = hashlib.sha256()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.putrequest("PATCH", path)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    chunk = os.urandom(1 << 20)
    for i in range(size >> 20):
        piece = chunk[:-8] + i.to_bytes(8, "big")
        h.update(piece)
        conn.send(piece)
    assert conn.getresponse().status == 202
    conn.close()
    digest = "sha256:" + h.hexdigest()
    assert request("PUT", f"{server.url}{path}?digest={digest}")[0] == 201
    return digest


def test_big_blobs_stream_with_bounded_memory(server):
    digest = stream_upload(server, "big", 256 << 20)
    results = []

    def pull():
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        conn.request("GET", f"/v2/big/blobs/{digest}")
        response = conn.getresponse()
        h = hashlib.sha256()
        for piece in iter(lambda: response.read(1 << 20), b""):
            h.update(piece)
        results.append("sha256:" + h.hexdigest())

    threads = [threading.Thread(target=pull) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [digest] * 4
    # 256 MiB in and 1 GiB out; the server never holds a blob whole.
    assert peak_rss_mib(server.proc.pid) < 128


def berth(*args, check=True):
    r = subprocess.run([binary("berth"), *args], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"berth {' '.join(args)} failed: {r.stderr}")
    return r


def test_gc_through_berth_cli(image_layout):
    s = Server()
    try:
        s.start()
        layout, _ = image_layout
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"docker://{s.address}/keep/app:v1")
        old_digest, _ = push_image(s, "drop/app", "v1", layers=(b"only in the dropped image",))
        stray = push_blob(s, "drop/app", b"uploaded, never named by a manifest")["digest"]
        assert request("DELETE", f"{s.url}/v2/drop/app/manifests/{old_digest}")[0] == 202
        refused = berth("registry", "gc", "--root", s.root, check=False)
        assert refused.returncode != 0 and "in use" in refused.stderr
        s.stop()
        before = set(s.blob_files())
        dry = berth("registry", "gc", "--root", s.root, "--dry-run").stdout
        assert stray in dry and set(s.blob_files()) == before
        out = berth("registry", "gc", "--root", s.root).stdout
        assert "removed 0 manifests and 4 blobs" in out, out
        removed = {"sha256:" + b for b in before - set(s.blob_files())}
        # The dropped image's manifest, config and layer, and the stray upload; the kept image is whole.
        assert removed == {old_digest, stray, sha256(b"only in the dropped image"), sha256(b'{"architecture":"amd64","os":"linux"}')}
        s.verify_store()
        s.start()
        skopeo("copy", "--src-tls-verify=false", f"docker://{s.address}/keep/app:v1", f"oci:{s.base}/out:latest")
        assert request("HEAD", f"{s.url}/v2/drop/app/blobs/{stray}")[0] == 404
    finally:
        s.cleanup()


def test_berth_registry_serve_execs_the_server():
    s = Server()
    try:
        s.command = lambda: [binary("berth"), "registry", "serve", "--addr", s.address, "--root", s.root]
        s.start()
        assert request("GET", f"{s.url}/v2/")[0] == 200
        with open(f"/proc/{s.proc.pid}/exe", "rb"):
            assert os.readlink(f"/proc/{s.proc.pid}/exe").endswith("berth-registry")
    finally:
        s.cleanup()
