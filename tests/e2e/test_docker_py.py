"""The Python docker SDK (docker-py 7.1) as a client of berthd."""
import docker
import pytest


def test_containers_run_returns_output(daemon):
    c = daemon.client()
    out = c.containers.run("busybox", ["echo", "from docker-py"], remove=True)
    assert out == b"from docker-py\n"


def test_nonzero_exit_raises_container_error(daemon):
    c = daemon.client()
    with pytest.raises(docker.errors.ContainerError) as e:
        c.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 4"], remove=True)
    assert e.value.exit_status == 4


def test_detached_exec_logs_and_remove(daemon):
    c = daemon.client()
    ctr = c.containers.run("busybox", ["sh", "-c", "echo hello; sleep 60"], detach=True, name="pyctr")
    try:
        assert ctr.status in ("created", "running")
        code, output = ctr.exec_run(["sh", "-c", "echo exec-out; exit 2"])
        assert code == 2
        assert output == b"exec-out\n"
        ctr.reload()
        assert ctr.status == "running"
        assert ctr.logs() == b"hello\n"
        assert any(x.id == ctr.id for x in c.containers.list())
    finally:
        ctr.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        c.containers.get("pyctr")


def test_images_api(daemon):
    c = daemon.client()
    img = c.images.get("busybox")
    assert "busybox:latest" in img.tags
    img.tag("pytag", "2")
    assert "pytag:2" in c.images.get("pytag:2").tags
    c.images.remove("pytag:2")
    with pytest.raises(docker.errors.ImageNotFound):
        c.images.get("pytag:2")


def test_attach_socket_stdin_round_trip(daemon):
    api = daemon.client().api
    ctr = api.create_container("busybox", ["cat"], stdin_open=True)
    try:
        sock = api.attach_socket(ctr["Id"], params={"stdin": 1, "stdout": 1, "stream": 1})
        api.start(ctr["Id"])
        raw = sock._sock
        raw.settimeout(10)
        raw.sendall(b"echo me\n")
        data = b""
        while len(data) < 16:
            chunk = raw.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data[:8] == b"\x01\x00\x00\x00\x00\x00\x00\x08"
        assert data[8:16] == b"echo me\n"
        api.kill(ctr["Id"])
        assert api.wait(ctr["Id"])["StatusCode"] == 137
    finally:
        api.remove_container(ctr["Id"], force=True)
