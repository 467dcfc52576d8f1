"""The Engine API's transport promises: a socket only root can open, docker's ping headers and
version negotiation, JSON errors with docker's status codes."""
import json
import os
import stat

from .test_hostile import request


def test_socket_is_only_for_root(daemon):
    st = os.stat(daemon.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert st.st_uid == 0
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_ping_headers_let_the_docker_cli_negotiate(daemon):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(daemon.socket)
    s.sendall(b"HEAD /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = s.recv(4096).decode()
    s.close()
    assert head.startswith("HTTP/1.1 200")
    headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["api-version"] == "1.45"
    assert lower["ostype"] == "linux"
    assert lower["builder-version"] == "1"
    r = daemon.docker("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}", check=True)
    assert r.stdout.decode().split() == ["1.45", "1.45"]


def test_errors_are_json_with_docker_status_codes(daemon):
    status, body = request(daemon, "GET", "/v1.44/containers/nope/json")
    assert status == 404
    assert json.loads(body) == {"message": "No such container: nope"}
    status, body = request(daemon, "GET", "/v1.44/images/nope:1/json")
    assert status == 404
    assert "No such image" in json.loads(body)["message"]
    # As moby: the stream parameters are checked before the container is looked up.
    status, body = request(daemon, "GET", "/v1.44/containers/nope/logs?stdout=1")
    assert status == 404
    cid = daemon.docker("create", "busybox", "true", check=True).stdout.decode().strip()
    try:
        status, body = request(daemon, "GET", f"/v1.44/containers/{cid}/logs")
        assert status == 400
        assert "you must choose at least one stream" in json.loads(body)["message"]
        status, body = request(daemon, "POST", f"/v1.44/containers/{cid}/stop")
        assert status == 304 and body == b""
    finally:
        daemon.docker("rm", cid)


def test_berthd_refuses_bad_flags():
    import subprocess
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
    from berth_testlib import binary
    r = subprocess.run([binary("berthd"), "--host", "tcp://0.0.0.0:2375"], capture_output=True, timeout=20)
    assert r.returncode != 0 and b"unix://" in r.stderr
    r = subprocess.run([binary("berthd"), "--default-runtime", "nope", "--host", "unix:///tmp/never.sock"], capture_output=True, timeout=20)
    assert r.returncode != 0 and b"unknown runtime nope" in r.stderr
    assert not os.path.exists("/tmp/never.sock")
