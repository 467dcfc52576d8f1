"""Hostile requests to the API: bodies past their endpoint's limit, uploads that stop half
way, and numbers out of range. The daemon answers with docker's JSON errors and keeps no file
or descriptor of what it refused."""
import json
import os
import socket
import time

from .test_hostile import request


def send_until_answered(daemon, head, body):
    """Sends a request whose body the daemon may refuse before it is all sent; returns the
    status and the body of the answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(daemon.socket)
    try:
        s.sendall(head + body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[1]


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def uploads(daemon):
    tmp = os.path.join(daemon.root, "tmp")
    return [n for n in os.listdir(tmp) if n.startswith("upload-")] if os.path.isdir(tmp) else []


def test_an_oversized_json_body_is_413_without_reading_it_all(daemon):
    body = b'{"Image": "busybox", "Cmd": ["true"], "Env": ["' + b"A" * (64 << 20) + b'"]}'
    head = (f"POST /v1.44/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    before = daemon.docker("ps", "-aq").stdout
    status, answer = send_until_answered(daemon, head, body)
    assert status == 413
    assert b"request body too large" in json.loads(answer)["message"].encode()
    assert daemon.docker("ps", "-aq").stdout == before


def test_an_aborted_upload_frees_its_file_and_descriptor(daemon):
    pid = daemon.proc.pid
    before = open_fds(pid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(daemon.socket)
    s.sendall(b"POST /v1.44/images/load HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
              b"Content-Length: 100000000\r\n\r\n" + b"\0" * (3 << 20))
    for _ in range(50):
        if uploads(daemon):
            break
        time.sleep(0.1)
    assert uploads(daemon), "the upload was not spilled to a file"
    s.close()
    for _ in range(50):
        if not uploads(daemon) and open_fds(pid) <= before:
            break
        time.sleep(0.1)
    assert uploads(daemon) == []
    assert open_fds(pid) <= before


def test_numeric_query_parameters_are_range_checked(daemon):
    cid = daemon.docker("run", "-d", "busybox", "sleep", "600").stdout.decode().strip()
    try:
        for path in (f"/v1.44/containers/{cid}/stop?t=99999999999999999999",
                     f"/v1.44/containers/{cid}/stop?t=9223372036854775807",
                     f"/v1.44/containers/{cid}/restart?t=-9223372036854775808",
                     f"/v1.44/containers/{cid}/resize?h=70000&w=80",
                     f"/v1.44/containers/{cid}/resize?h=-1&w=80",
                     "/v1.44/containers/json?limit=-5",
                     f"/v1.44/containers/{cid}/stop?t=ten"):
            status, answer = request(daemon, "POST" if "json?" not in path else "GET", path)
            assert status == 400, (path, status, answer)
            assert "message" in json.loads(answer)
        # The daemon is alive and the container untouched.
        assert daemon.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == b"running"
        status, _ = request(daemon, "POST", f"/v1.44/containers/{cid}/stop?t=1")
        assert status == 204
    finally:
        daemon.docker("rm", "-f", cid)
