"""End to end: `berth` container commands against a real berthd (see conftest.py)."""
import json
import os
import pty
import re
import select
import struct
import subprocess
import time
import fcntl
import termios
import uuid

from .conftest import BERTH


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_run_exits_with_container_status_and_splits_streams(daemon, image):
    result = daemon("run", "--rm", image, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


def test_run_rm_removes_the_container(daemon, image):
    name = unique("rm")
    assert daemon("run", "--rm", "--name", name, image, "true").returncode == 0
    assert name not in daemon.out("ps", "-a")


def test_run_forwards_stdin_and_half_closes(daemon, image):
    result = daemon("run", "-i", "--rm", image, "cat", input=b"hello from stdin\n")
    assert result.returncode == 0
    assert result.stdout == b"hello from stdin\n"


def test_run_detached_prints_full_id_then_wait_and_logs(daemon, image):
    name = unique("detached")
    cid = daemon.out("run", "-d", "--name", name, image, "sh", "-c", "echo line1; echo line2 >&2; exit 4").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert daemon.out("wait", name).strip() == "4"
    logs = daemon("logs", name)
    assert logs.stdout == b"line1\n"
    assert logs.stderr == b"line2\n"
    tail = daemon("logs", "--tail", "1", "-t", name)
    assert re.match(rb"\d{4}-\d\d-\d\dT\S+ line", tail.stdout + tail.stderr)
    assert daemon.out("rm", name).strip() == name


def test_command_not_found_exits_127(daemon, image):
    result = daemon("run", "--rm", image, "nope-not-a-command")
    assert result.returncode == 127
    assert "Error response from daemon" in result.stderr.decode()


def test_command_not_executable_exits_126(daemon, image):
    result = daemon("run", "--rm", image, "/etc/passwd")
    assert result.returncode == 126


def test_missing_image_is_an_engine_error(daemon):
    result = daemon("run", "--rm", "127.0.0.1:1/berth-test/absent:1", "true")
    assert result.returncode == 125
    assert "Unable to find image '127.0.0.1:1/berth-test/absent:1' locally" in result.stderr.decode()


def test_create_options_reach_the_container(daemon, image, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=file value\n")
    host_dir = tmp_path / "shared"
    host_dir.mkdir()
    (host_dir / "greeting").write_text("hi from host\n")
    script = ("echo $FROM_FILE/$FROM_FLAG; pwd; id -u; hostname; cat /mnt/greeting; "
              "touch /tmp/ok && echo tmpfs-ok; touch /rootfile 2>/dev/null || echo read-only")
    result = daemon("run", "--rm", "--env-file", str(env_file), "-e", "FROM_FLAG=flag", "-w", "/tmp",
                    "-u", "65534", "--hostname", "berthhost", "-v", f"{host_dir}:/mnt:ro", "--tmpfs", "/tmp",
                    "--read-only", "-m", "64m", "--cpus", "0.5", "--pids-limit", "64",
                    "--cap-drop", "ALL", "--security-opt", "no-new-privileges", image, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        "file value/flag", "/tmp", "65534", "berthhost", "hi from host", "tmpfs-ok", "read-only",
    ]


def test_inspect_reflects_limits(daemon, image):
    name = unique("limits")
    daemon.out("create", "--name", name, "-m", "64m", "--cpus", "0.5", "--pids-limit", "32", "--init",
               "--network", "none", image, "true")
    inspected = json.loads(daemon.out("inspect", name))
    assert len(inspected) == 1
    host = inspected[0]["HostConfig"]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 32
    assert host["NetworkMode"] == "none"
    assert inspected[0]["Name"] == f"/{name}"
    daemon.out("rm", name)


def test_inspect_missing_object(daemon):
    result = daemon("inspect", "berth-no-such-object")
    assert result.returncode == 1
    assert result.stdout == b"[]\n"
    assert "Error: No such object: berth-no-such-object" in result.stderr.decode()


def test_create_then_start_attached(daemon, image):
    name = unique("created")
    cid = daemon.out("create", "--name", name, image, "sh", "-c", "echo started; exit 2").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert "Created" in daemon.out("ps", "-a", "--filter", f"name={name}")
    result = daemon("start", "-a", name)
    assert result.returncode == 2
    assert result.stdout == b"started\n"
    daemon.out("rm", name)


def test_ps_columns_and_quiet(daemon, image):
    name = unique("ps")
    cid = daemon.out("run", "-d", "--name", name, image, "sleep", "30").strip()
    try:
        lines = daemon.out("ps").splitlines()
        assert re.match(r"CONTAINER ID\s{3}IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$", lines[0])
        row = next(line for line in lines if line.endswith(name))
        assert row.startswith(cid[:12] + "   ")
        assert '"sleep 30"' in row
        assert re.search(r"(Less than a second|\d+ seconds?) ago", row)
        assert "Up " in row
        assert cid[:12] in daemon.out("ps", "-q").split()
        assert cid in daemon.out("ps", "-q", "--no-trunc").split()
    finally:
        daemon("rm", "-f", name)


def test_exec_status_output_and_env(daemon, image):
    name = unique("exec")
    daemon.out("run", "-d", "--name", name, image, "sleep", "60")
    try:
        result = daemon("exec", "-e", "X=1", "-w", "/tmp", name, "sh", "-c", "echo $X $(pwd); echo e >&2; exit 5")
        assert result.returncode == 5
        assert result.stdout == b"1 /tmp\n"
        assert result.stderr == b"e\n"
        result = daemon("exec", "-i", name, "cat", input=b"piped\n")
        assert result.stdout == b"piped\n"
        assert daemon("exec", "-d", name, "sleep", "1").returncode == 0
        top = daemon.out("top", name)
        assert "PID" in top.splitlines()[0]
        assert "sleep 60" in top
    finally:
        daemon("rm", "-f", name)


def test_stop_kill_restart(daemon, image):
    name = unique("life")
    daemon.out("run", "-d", "--name", name, image, "sleep", "60")
    # sleep as PID 1 ignores SIGTERM (no handler), so the signal that ends it is KILL.
    assert daemon.out("kill", "-s", "KILL", name).strip() == name
    assert daemon.out("wait", name).strip() == "137"
    assert daemon.out("restart", "-t", "1", name).strip() == name
    assert name in daemon.out("ps")
    assert daemon.out("stop", "-t", "1", name).strip() == name
    assert name not in daemon.out("ps")
    result = daemon("rm", name, "berth-no-such-container")
    assert result.returncode == 1
    assert "No such container" in result.stderr.decode()


def test_rm_running_needs_force(daemon, image):
    name = unique("force")
    daemon.out("run", "-d", "--name", name, image, "sleep", "60")
    result = daemon("rm", name)
    assert result.returncode == 1
    assert result.stderr.decode().startswith("Error response from daemon: ")
    assert daemon.out("rm", "-f", name).strip() == name


def test_diff_and_commit(daemon, image):
    name = unique("diff")
    daemon.out("run", "--name", name, image, "sh", "-c", "mkdir /data/sub; echo x > /data/sub/new")
    changes = daemon.out("diff", name).splitlines()
    assert "A /data/sub/new" in changes or "A /data/sub" in changes
    assert "C /data" in changes
    image_id = daemon.out("commit", "-m", "berth test", "-c", "ENV COMMITTED=1", name, "berth-test/committed:1").strip()
    assert image_id.startswith("sha256:")
    result = daemon("run", "--rm", "berth-test/committed:1", "sh", "-c", "cat /data/sub/new; echo $COMMITTED")
    assert result.stdout == b"x\n1\n"
    daemon.out("rm", name)
    daemon.out("rmi", "berth-test/committed:1")


def run_in_pty(daemon, args, rows=30, cols=100, send=b"", seconds=20):
    """Runs berth on a pseudo-terminal of the given size; returns (output, exit status)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(BERTH), ["berth", *args], daemon.env())
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    if send:
        os.write(fd, send)
    output = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            output += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return output, os.waitstatus_to_exitcode(status)


def test_run_tty_is_raw_and_sized(daemon, image):
    output, status = run_in_pty(daemon, ["run", "-it", "--rm", image, "sh", "-c", "sleep 1; stty size; tty; exit 6"])
    assert status == 6
    text = output.decode(errors="replace")
    assert "30 100" in text
    assert "/dev/pts/" in text or "/dev/console" in text
    assert "\r\n" in text


def test_exec_tty(daemon, image):
    name = unique("exectty")
    daemon.out("run", "-d", "--name", name, image, "sleep", "60")
    try:
        output, status = run_in_pty(daemon, ["exec", "-it", name, "sh", "-c", "sleep 1; stty size"], rows=12, cols=34)
        assert status == 0
        assert b"12 34" in output
    finally:
        daemon("rm", "-f", name)


def test_run_tty_without_terminal_is_refused(daemon, image):
    result = daemon("run", "-it", "--rm", image, "true", input=b"")
    assert result.returncode == 1
    assert "the input device is not a TTY" in result.stderr.decode()
