"""process.terminal: the pty master arrives over --console-socket; the slave is the process's tty."""
import os
import socket
import time


class ConsoleSocket:
    """A listening Unix socket that receives one pty master (SCM_RIGHTS)."""

    def __init__(self, path):
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.server.settimeout(10)

    def receive_master(self):
        connection, _ = self.server.accept()
        with connection:
            _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
        assert len(fds) == 1
        return fds[0]

    def close(self):
        self.server.close()
        os.unlink(self.path)


def read_until_closed(fd, timeout=10):
    """Everything the slave side writes until every slave is closed (EIO on the master)."""
    data = b""
    deadline = time.time() + timeout
    os.set_blocking(fd, True)
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode()


def test_terminal_init(runtime):
    container_id, bundle = runtime.new_bundle(["sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty; stty size; ls -l /dev/console | cut -c1"])
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": 33, "width": 101}
    console = ConsoleSocket(os.path.join(bundle.path, "console.sock"))
    try:
        result, _, err = runtime.create(bundle, container_id, "--console-socket", console.path)
        assert result.returncode == 0, open(err).read()
        master = console.receive_master()
        try:
            assert runtime.cmd("start", container_id).returncode == 0
            output = read_until_closed(master)
        finally:
            os.close(master)
    finally:
        console.close()
    assert output.split() == ["is-a-tty", "33", "101", "c"]


def test_terminal_requires_console_socket(runtime):
    container_id, bundle = runtime.new_bundle(["true"])
    bundle.process["terminal"] = True
    result, _, err = runtime.create(bundle, container_id)
    assert result.returncode != 0


def test_exec_with_tty(runtime):
    container_id, bundle = runtime.new_bundle(["sleep", "60"])
    result, _, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    assert runtime.cmd("start", container_id).returncode == 0
    console = ConsoleSocket(os.path.join(bundle.path, "exec.sock"))
    try:
        pid_file = os.path.join(bundle.path, "exec.pid")
        with open(os.path.join(bundle.path, "exec-log"), "w") as log:
            started = runtime.cmd("exec", "--tty", "-d", "--console-socket", console.path, "--pid-file", pid_file,
                                  container_id, "sh", "-c", "test -t 0 && echo exec-tty; echo $$",
                                  stdout=log, stderr=log, capture_output=False)
        assert started.returncode == 0, open(os.path.join(bundle.path, "exec-log")).read()
        master = console.receive_master()
        try:
            output = read_until_closed(master)
        finally:
            os.close(master)
    finally:
        console.close()
    lines = output.split()
    assert lines[0] == "exec-tty"
    assert int(lines[1]) > 1  # a pid in the container's namespace, not init
