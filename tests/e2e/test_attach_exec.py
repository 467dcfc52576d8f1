"""Attach and exec as dockerd serves them: detach keys (ctrl-p ctrl-q by default, or
`detachKeys`) that leave the container running with its stdin open, `logs=1&stream=0`
attach, exec with a TTY (a raw stream), exec as another user and working directory, exec
exit codes and ExecInspect's fields."""
import socket
import time

import docker
import pytest

from .conftest import RUNTIMES


def raw(sock):
    return sock._sock if hasattr(sock, "_sock") else sock


def read_until(sock, marker, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except socket.timeout:
        return False


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_detach_keys_leave_the_container_and_its_stdin(daemon, runtime):
    client = daemon.client()
    c = client.containers.run("busybox", ["sh"], detach=True, stdin_open=True, tty=True, runtime=runtime, name=f"detach-{runtime}")
    try:
        sock = raw(client.api.attach_socket(c.id, params={"stdin": 1, "stdout": 1, "stream": 1}))
        sock.sendall(b"echo one-$((1+1))\n")
        assert b"one-2" in read_until(sock, b"one-2")
        sock.sendall(b"\x10\x11")
        assert closed_within(sock, 5), "ctrl-p ctrl-q did not detach"
        c.reload()
        assert c.status == "running"
        # stdin is still open: a new attach still reaches the shell.
        sock = raw(client.api.attach_socket(c.id, params={"stdin": 1, "stdout": 1, "stream": 1, "detachKeys": "ctrl-a,x"}))
        sock.sendall(b"echo two-$((2+2))\n")
        assert b"two-4" in read_until(sock, b"two-4")
        sock.sendall(b"\x10\x11")  # not the detach keys of this attach: passed to the shell
        assert not closed_within(sock, 1)
        sock.sendall(b"\x01x")
        assert closed_within(sock, 5), "the custom detach keys did not detach"
        c.reload()
        assert c.status == "running"
        res = client.api._post(client.api._url("/containers/{0}/attach", c.id), params={"stdin": 1, "stream": 1, "detachKeys": "ctrl-pp"})
        assert res.status_code == 400 and "Invalid detach keys" in res.json()["message"]
    finally:
        c.remove(force=True)


def test_attach_logs_without_stream(daemon):
    client = daemon.client()
    c = client.containers.run("busybox", ["sh", "-c", "echo first; echo second >&2; sleep 300"], detach=True)
    try:
        time.sleep(0.5)
        out = c.attach(stdout=True, stderr=True, logs=True, stream=False)
        assert out == b"first\nsecond\n"
        out = c.attach(stdout=True, stderr=False, logs=True, stream=False)
        assert out == b"first\n"
    finally:
        c.remove(force=True)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exec_tty_user_workdir_exit_codes_and_inspect(daemon, runtime):
    client = daemon.client()
    c = client.containers.run("busybox", ["sleep", "300"], detach=True, runtime=runtime)
    try:
        result = c.exec_run(["sh", "-c", "tty; id -u; pwd; exit 3"], tty=True, user="1000", workdir="/tmp")
        assert result.exit_code == 3
        lines = result.output.decode().split("\r\n")
        assert lines[0].startswith("/dev/pts/") and lines[1:3] == ["1000", "/tmp"], result.output
        r = daemon.docker("exec", "-u", "65534:65534", "-w", "/etc", c.id, "sh", "-c", "id -u; id -g; pwd")
        assert r.returncode == 0 and r.stdout.decode().split() == ["65534", "65534", "/etc"], r.stderr
        assert daemon.docker("exec", c.id, "sh", "-c", "exit 42").returncode == 42
        exec_id = client.api.exec_create(c.id, ["sh", "-c", "exit 5"], user="1000", detach_keys="ctrl-x,y")["Id"]
        client.api.exec_start(exec_id)
        info = client.api.exec_inspect(exec_id)
        assert info["ExitCode"] == 5 and info["Running"] is False and info["ContainerID"] == c.id
        assert info["ProcessConfig"] == {"tty": False, "entrypoint": "sh", "arguments": ["-c", "exit 5"], "privileged": False, "user": "1000"}
        assert info["DetachKeys"] == "ctrl-x,y" and info["Pid"] > 0
        with pytest.raises(docker.errors.APIError) as err:
            client.api.exec_create(c.id, ["true"], detach_keys="ctrl-")
        assert err.value.status_code == 400
    finally:
        c.remove(force=True)


def test_top_with_ps_options(daemon):
    daemon.docker("run", "-d", "--name", "top-c", "busybox", "sh", "-c", "sleep 300 & sleep 301", check=True)
    try:
        r = daemon.docker("top", "top-c", "-eo", "pid,comm")
        lines = r.stdout.decode().splitlines()
        assert lines[0].split() == ["PID", "COMMAND"] and len(lines) == 3, r.stdout
        assert {line.split()[1] for line in lines[1:]} == {"sleep"}
        top = daemon.client().containers.get("top-c").top(ps_args="-o pid,args")
        assert top["Titles"] == ["PID", "COMMAND"] and sorted(p[1] for p in top["Processes"]) == ["sleep 300", "sleep 301"]
        r = daemon.docker("top", "top-c", "-o", "bogus")
        assert r.returncode != 0 and b"ps failed" in r.stderr
        r = daemon.docker("top", "no-such-container")
        assert r.returncode != 0 and b"No such container" in r.stderr
    finally:
        daemon.docker("rm", "-f", "top-c")
