"""kill -9 of the server at any point leaves a consistent store: no partial blob visible, every
stored blob hashes to its name, and an interrupted upload resumes or is cleanly gone. Idle
uploads time out and are removed."""
import os
import shutil
import tempfile
import threading
import time

import pytest

from serverlib import Server, error_codes, raw, request, sha256
from test_api import push_image


def test_kill_during_upload_then_restart(tmp_path):
    s = Server()
    try:
        s.start()
        push_image(s, "app", "v1")
        data = os.urandom(8 << 20)
        _, headers, _ = request("POST", f"{s.url}/v2/app/blobs/uploads/")
        path = headers["Location"]
        first = 2 << 20
        assert request("PATCH", s.url + path, body=data[:first], headers={"Content-Type": "application/octet-stream"})[0] == 202
        # A second PATCH is streaming when the server dies.
        head = (f"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {len(data) - first}\r\n\r\n").encode()
        sender = threading.Thread(target=lambda: _send_ignoring_errors(s.port, head + data[first:first + (3 << 20)]))
        sender.start()
        time.sleep(0.3)
        s.kill9()
        sender.join()
        # A monolithic upload killed mid-way leaves only ingest data.
        s.start()
        s.verify_store()
        assert sha256(data).split(":")[1] not in s.blob_files()
        assert request("GET", f"{s.url}/v2/app/manifests/v1")[0] == 200
        status, headers, _ = request("GET", s.url + path)
        assert status == 204
        offset = int(headers["Range"].split("-")[1]) + 1
        assert first <= offset <= first + (3 << 20)
        status, _, _ = request("PATCH", s.url + path, body=data[offset:],
                               headers={"Content-Range": f"{offset}-{len(data) - 1}", "Content-Type": "application/octet-stream"})
        assert status == 202
        assert request("PUT", f"{s.url}{path}?digest={sha256(data)}")[0] == 201
        assert request("GET", f"{s.url}/v2/app/blobs/{sha256(data)}")[2] == data
        s.verify_store()
    finally:
        s.cleanup()


def _send_ignoring_errors(port, data):
    try:
        raw(port, data, read=False)
    except OSError:
        pass


def test_kill_during_monolithic_upload_leaves_nothing_visible():
    s = Server(upload_timeout=2)
    try:
        s.start()
        data = os.urandom(6 << 20)
        head = (f"POST /v2/mono/blobs/uploads/?digest={sha256(data)} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        sender = threading.Thread(target=lambda: _send_ignoring_errors(s.port, head + data[:4 << 20]))
        sender.start()
        time.sleep(0.3)
        s.kill9()
        sender.join()
        s.start()
        assert s.blob_files() == []
        assert request("HEAD", f"{s.url}/v2/mono/blobs/{sha256(data)}")[0] == 404
        # The orphaned partial data is swept once older than the upload timeout.
        ingest = os.path.join(s.root, "content", "ingest")
        deadline = time.time() + 15
        while os.listdir(ingest) and time.time() < deadline:
            time.sleep(0.5)
        assert os.listdir(ingest) == []
    finally:
        s.cleanup()


def test_idle_uploads_time_out():
    s = Server(upload_timeout=2)
    try:
        s.start()
        _, headers, _ = request("POST", f"{s.url}/v2/idle/blobs/uploads/")
        location = s.url + headers["Location"]
        assert request("PATCH", location, body=b"partial", headers={"Content-Type": "application/octet-stream"})[0] == 202
        deadline = time.time() + 15
        while request("GET", location)[0] != 404 and time.time() < deadline:
            time.sleep(0.5)
        assert request("GET", location)[0] == 404
        assert os.listdir(os.path.join(s.root, "content", "ingest")) == []
        assert os.listdir(os.path.join(s.root, "uploads")) == []
    finally:
        s.cleanup()


def test_disk_full_during_upload(tmp_path):
    """security-defaults §3.2: a full disk fails the upload cleanly, nothing half-written becomes
    visible, and the same upload succeeds once there is room."""
    import subprocess
    mount = tempfile.mkdtemp(prefix="brs-full-", dir="/tmp")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount], capture_output=True).returncode != 0:
        shutil.rmtree(mount, ignore_errors=True)
        pytest.skip("cannot mount a tmpfs here")
    s = Server(root=os.path.join(mount, "root"))
    try:
        s.start()
        small = os.urandom(1 << 20)
        assert request("POST", f"{s.url}/v2/full/blobs/uploads/?digest={sha256(small)}", body=small,
                       headers={"Content-Type": "application/octet-stream"})[0] == 201
        big = os.urandom(12 << 20)
        status, _, body = request("POST", f"{s.url}/v2/full/blobs/uploads/?digest={sha256(big)}", body=big,
                                  headers={"Content-Type": "application/octet-stream"})
        assert status == 500 and error_codes(body) == ["UNKNOWN"]
        assert b"No space left on device" in body
        assert s.blob_files() == [sha256(small).split(":")[1]]
        assert os.listdir(os.path.join(s.root, "content", "ingest")) == []
        assert request("GET", f"{s.url}/v2/full/blobs/{sha256(small)}")[2] == small
        s.verify_store()
        # The failed upload's partial data was released, so a 6 MiB one fits beside the 1 MiB blob.
        fits = big[:6 << 20]
        assert request("POST", f"{s.url}/v2/full/blobs/uploads/?digest={sha256(fits)}", body=fits,
                       headers={"Content-Type": "application/octet-stream"})[0] == 201
        assert request("GET", f"{s.url}/v2/full/blobs/{sha256(fits)}")[2] == fits
    finally:
        s.cleanup()
        subprocess.run(["umount", mount], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)
