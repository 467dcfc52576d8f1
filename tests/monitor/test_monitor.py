"""End-to-end tests of berth-monitor (docs/internals.md §2) with runc and a busybox bundle."""
import json
import os
import re
import signal
import socket
import stat
import time
from datetime import datetime, timezone

import pytest

from .conftest import joined, pid_alive, read_frames, wait_until

RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def recv_all(sock, timeout=20.0):
    """Everything the monitor sends until it closes the connection."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def recv_until(sock, needle, timeout=20.0):
    sock.settimeout(timeout)
    data = b""
    while needle not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before {needle!r}; got {data!r}"
        data += chunk
    return data


def parse_time(text):
    assert RFC3339_NANO.match(text), text
    seconds, fraction = text[:-1].split(".")
    return datetime.strptime(seconds, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp() + int(fraction) / 1e9


def test_ok_reports_the_running_pid_and_files(harness):
    m = harness.start_container(["sleep", "1000"])
    pid = m.ok_pid()
    # `ok` comes once the process runs (create and start are both the monitor's).
    state = harness.state(m.cid)
    assert state["status"] == "running"
    assert state["pid"] == pid
    with open(os.path.join(m.dir, "monitor.pid")) as f:
        assert int(f.read()) == m.process.pid
    mode = os.stat(m.sock_path).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    assert not os.path.exists(os.path.join(m.dir, "console.sock"))
    # The monitor leads its own session and does not hold the report pipe any more.
    assert os.getsid(m.process.pid) == m.process.pid


def test_attach_before_start_gets_both_streams_and_exit_code(harness):
    m = harness.start_container(["sh", "-c", "echo out; echo err >&2; exit 3"], "--hold-output", "1")
    m.ok_pid()
    client = m.attach(stdin=0, stdout=1, stderr=1)
    frames = read_frames(recv_all(client))
    assert joined(frames, 1) == b"out\n"
    assert joined(frames, 2) == b"err\n"
    assert m.wait() == 0
    record = m.exit_record()
    assert record["exitCode"] == 3 and record["signal"] is None
    parse_time(record["finishedAt"])
    # The monitor ran `runtime delete`, and removed its socket.
    assert harness.state(m.cid) is None
    assert not os.path.exists(m.sock_path)


def test_attach_stream_selection(harness):
    m = harness.start_container(["sh", "-c", "echo out; echo err >&2"], "--hold-output", "1")
    m.ok_pid()
    only_err = m.attach(stdout=0, stderr=1)
    assert read_frames(recv_all(only_err)) == [(2, b"err\n")]
    assert m.wait() == 0


def test_stdin_forwarding_and_half_close_with_stdin_once(harness):
    m = harness.start_container(["cat"], "--stdin", "--stdin-once", "--hold-output", "1")
    m.ok_pid()
    client = m.attach(stdin=1, stdout=1, stderr=1)
    client.sendall(b"hello\n" + b"x" * 200000 + b"\n")
    client.shutdown(socket.SHUT_WR)
    out = joined(read_frames(recv_all(client)), 1)
    assert out == b"hello\n" + b"x" * 200000 + b"\n"
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 0


def test_stdin_without_stdin_once_stays_open_after_client_leaves(harness):
    m = harness.start_container(["cat"], "--stdin", "--hold-output", "1")
    m.ok_pid()
    first = m.attach(stdin=1)
    first.sendall(b"one\n")
    first.shutdown(socket.SHUT_WR)
    assert recv_until(first, b"one\n")
    first.close()
    time.sleep(0.3)
    assert harness.state(m.cid)["status"] == "running"
    second = m.attach(stdin=1)
    second.sendall(b"two\n")
    assert b"two\n" in recv_until(second, b"two\n")
    harness.runc("kill", m.cid, "KILL")
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 137


def test_kill_9_gives_137(harness):
    m = harness.start_container(["sleep", "1000"])
    m.ok_pid()
    harness.runc("kill", m.cid, "KILL")
    assert m.wait() == 0
    record = m.exit_record()
    assert record == {"exitCode": 137, "finishedAt": record["finishedAt"], "signal": 9}


def test_json_log_has_both_streams_split_at_lines(harness):
    # The sleeps make each printf one read for the monitor, so the chunk boundaries are known.
    script = r"printf 'a\nb\npartial'; sleep 0.3; printf 'e1\n' >&2; sleep 0.3; printf '\377\001q\042\134\n'"
    m = harness.start_container(["sh", "-c", script])
    m.ok_pid()
    before = time.time()
    assert m.wait() == 0
    after = time.time()
    with open(os.path.join(m.dir, "container-json.log"), "rb") as f:
        raw = f.read()
    entries = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    for entry in entries:
        assert set(entry) == {"log", "stream", "time"}
        assert before - 1 <= parse_time(entry["time"]) <= after + 1
    stdout = [e["log"] for e in entries if e["stream"] == "stdout"]
    stderr = [e["log"] for e in entries if e["stream"] == "stderr"]
    assert stdout == ["a\n", "b\n", "partial", "\ufffd\u0001q\"\\\n"]
    assert "".join(stdout) == "a\nb\npartial\ufffd\u0001q\"\\\n"
    assert stderr == ["e1\n"]


def test_output_is_logged_without_clients_and_pipes_never_fill(harness):
    # 4 MiB is far more than a pipe holds: the container only finishes if the monitor drains.
    m = harness.start_container(["sh", "-c", "head -c 4194304 /dev/zero | tr '\\0' y; echo; echo done"])
    m.ok_pid()
    assert m.wait(timeout=60) == 0
    total = 0
    with open(os.path.join(m.dir, "container-json.log")) as f:
        for line in f:
            total += len(json.loads(line)["log"])
    assert total == 4194304 + 1 + 5


def test_slow_client_is_dropped_and_never_blocks(harness):
    m = harness.start_container(["sh", "-c", "head -c 8388608 /dev/zero; echo done"], "--hold-output", "1")
    m.ok_pid()
    lazy = m.attach()
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert m.wait(timeout=60) == 0
    assert m.exit_record()["exitCode"] == 0
    received = recv_all(lazy)
    assert len(received) < 4 * 1024 * 1024
    assert "dropping attach client" in m.log_text()


def tty_bundle_args():
    return ["sh", "-c", "read first; stty size; read line; stty size; echo bye"]


def test_tty_raw_output_and_resize(harness):
    m = harness.start_container(tty_bundle_args(), "--tty", "--stdin", "--hold-output", "1", terminal=True)
    m.ok_pid()
    assert m.resize(33, 77) == b"ok\n"
    client = m.attach(stdin=1, stdout=1, stderr=0)
    client.sendall(b"start\n")
    first = recv_until(client, b"33 77")
    # Raw bytes, no stdcopy header (the terminal echoes the typed line first).
    assert first.startswith(b"start\r\n33 77")
    assert m.resize(50, 120) == b"ok\n"
    client.sendall(b"go\n")
    rest = recv_all(client)
    assert b"50 120" in rest and b"bye" in rest
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 0


def test_resize_without_tty_is_an_error(harness):
    m = harness.start_container(["sleep", "1000"])
    m.ok_pid()
    assert m.resize(10, 10).startswith(b"error ")
    bad = m.connect(b"frobnicate\n")
    assert recv_all(bad).startswith(b"error unknown command")


def test_killing_the_parent_does_not_affect_the_monitor(harness):
    cid = harness.new_id()
    bundle = harness.bundle(["sh", "-c", "echo survived; exit 4"])
    directory = harness.monitor_dir()
    m = harness.spawn(harness.container_args(cid, bundle, directory, "--hold-output", "1"), directory, via_shell=True)
    m.cid = cid
    m.ok_pid()
    with open(os.path.join(directory, "monitor.pid")) as f:
        monitor_pid = int(f.read())
    harness.extra_pids.append(monitor_pid)
    assert os.getsid(monitor_pid) == monitor_pid
    os.killpg(m.process.pid, signal.SIGKILL)
    m.process.wait(timeout=10)
    time.sleep(0.2)
    assert pid_alive(monitor_pid)
    client = m.attach()
    assert joined(read_frames(recv_all(client)), 1) == b"survived\n"
    assert wait_until(lambda: not pid_alive(monitor_pid), timeout=20)
    assert m.exit_record()["exitCode"] == 4


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("args", [["sleep", "1000"], ["sh", "-c", "while true; do echo x; sleep 0.1; done"]])
def test_kill_9_of_the_monitor_leaves_the_container_running_without_verdict(harness, args, tty):
    # Documented behaviour (docs/internals.md §2): the container keeps running (reparented
    # above the monitor); its stdio loses its reader, so writes fail. No exit.json is written
    # and monitor.pid names a dead process: the daemon records "monitor died" (255).
    m = harness.start_container(args, *(["--tty"] if tty else []), terminal=tty)
    m.ok_pid()
    time.sleep(0.3)
    os.kill(m.process.pid, signal.SIGKILL)
    m.process.wait(timeout=10)
    time.sleep(1.0)
    assert harness.state(m.cid)["status"] == "running"
    assert not os.path.exists(os.path.join(m.dir, "exit.json"))
    with open(os.path.join(m.dir, "monitor.pid")) as f:
        assert not pid_alive(int(f.read()))


def write_process(harness, args, terminal=False):
    path = os.path.join(harness.root, f"process-{len(os.listdir(harness.root))}.json")
    with open(path, "w") as f:
        json.dump({"terminal": terminal, "user": {"uid": 0, "gid": 0}, "args": args,
                   "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/"}, f)
    return path


def test_exec_output_reaches_a_late_client_and_exit_code(harness):
    container = harness.start_container(["sleep", "1000"])
    container.ok_pid()
    process = write_process(harness, ["sh", "-c", "echo exec-out; echo exec-err >&2; exit 5"])
    directory = harness.monitor_dir()
    m = harness.spawn(harness.exec_args(container.cid, process, directory), directory)
    pid = m.ok_pid()
    assert pid > 0
    # Attach after the exec has most likely finished: the buffered output is replayed.
    time.sleep(0.5)
    client = m.attach()
    frames = read_frames(recv_all(client))
    assert joined(frames, 1) == b"exec-out\n"
    assert joined(frames, 2) == b"exec-err\n"
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 5
    assert not os.path.exists(os.path.join(directory, "container-json.log"))
    # exec mode never deletes the container.
    assert harness.state(container.cid)["status"] == "running"


def test_exec_with_stdin(harness):
    container = harness.start_container(["sleep", "1000"])
    container.ok_pid()
    process = write_process(harness, ["cat"])
    directory = harness.monitor_dir()
    m = harness.spawn(harness.exec_args(container.cid, process, directory, "--stdin", "--stdin-once"), directory)
    m.ok_pid()
    client = m.attach(stdin=1)
    client.sendall(b"to exec\n")
    client.shutdown(socket.SHUT_WR)
    assert joined(read_frames(recv_all(client)), 1) == b"to exec\n"
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 0


def test_create_failure_reports_error_and_exits_non_zero(harness):
    cid = harness.new_id()
    bundle = harness.bundle(["sh"], config_edit=lambda c: c["root"].update(path="no-such-rootfs"))
    directory = harness.monitor_dir()
    m = harness.spawn(harness.container_args(cid, bundle, directory), directory)
    line = m.read_report()
    assert line.startswith(b"error runtime create exited with status 1: ")
    assert b"no-such-rootfs" in line and line.endswith(b"\n") and line.count(b"\n") == 1
    assert m.wait() == 1
    assert not os.path.exists(os.path.join(directory, "monitor.pid"))
    assert not os.path.exists(os.path.join(directory, "attach.sock"))


def test_usage_error_is_reported_on_fd_3(harness):
    directory = harness.monitor_dir()
    m = harness.spawn([harness.container_args("x", "/nonexistent", directory)[0], "container", "--id", "x"], directory)
    assert m.read_report().startswith(b"error --runtime is required")
    assert m.wait() == 2


def test_missing_runtime_is_reported(harness):
    cid = harness.new_id()
    bundle = harness.bundle(["true"])
    directory = harness.monitor_dir()
    argv = harness.container_args(cid, bundle, directory)
    argv[argv.index("--runtime") + 1] = "/nonexistent/runc"
    m = harness.spawn(argv, directory)
    if harness.in_process:
        # Berth's own runtime runs inside the monitor; the path would only serve an exec.
        assert m.ok_pid() > 0
        assert m.wait() == 0 and m.exit_record()["exitCode"] == 0
        return
    assert m.read_report().startswith(b"error cannot run the runtime /nonexistent/runc")
    assert m.wait() == 1


def test_relative_paths_are_refused(harness):
    directory = harness.monitor_dir()
    argv = harness.container_args("x", "relative/bundle", directory)
    m = harness.spawn(argv, directory)
    assert m.read_report().startswith(b"error --bundle must be an absolute path")
    assert m.wait() == 2


def test_every_attached_client_gets_the_output(harness):
    m = harness.start_container(["sh", "-c", "sleep 0.2; echo shared"], "--hold-output", "2")
    m.ok_pid()
    first, second = m.attach(), m.attach()
    assert joined(read_frames(recv_all(first)), 1) == b"shared\n"
    assert joined(read_frames(recv_all(second)), 1) == b"shared\n"
    assert m.wait() == 0


def test_exec_with_tty(harness):
    container = harness.start_container(["sleep", "1000"])
    container.ok_pid()
    process = write_process(harness, ["sh", "-c", "stty size; echo tty-exec"], terminal=True)
    directory = harness.monitor_dir()
    m = harness.spawn(harness.exec_args(container.cid, process, directory, "--tty"), directory)
    m.ok_pid()
    client = m.attach(stdout=1, stderr=0)
    out = recv_all(client)
    assert b"tty-exec" in out and not out.startswith(b"\x01\x00\x00\x00")
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 0


def test_tty_stdin_once_sends_end_of_file(harness):
    m = harness.start_container(["cat"], "--tty", "--stdin", "--stdin-once", "--hold-output", "1", terminal=True)
    m.ok_pid()
    client = m.attach(stdin=1, stdout=1, stderr=0)
    client.sendall(b"typed\n")
    client.shutdown(socket.SHUT_WR)
    assert b"typed" in recv_all(client)
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 0


def test_hostile_attach_lines_are_refused(harness):
    m = harness.start_container(["sleep", "1000"])
    m.ok_pid()
    assert recv_all(m.connect(b"attach stdin=2\n")).startswith(b"error expected: attach")
    assert recv_all(m.connect(b"x" * 5000)).startswith(b"error command line longer")
    control = m.connect(b"resize a b\nresize 1 1\n")
    control.shutdown(socket.SHUT_WR)
    assert recv_all(control) == (b"error expected: resize <rows> <cols>\n"
                                 b"error the process has no terminal (started without --tty)\n")
    # A client that connects and vanishes, and one that never sends anything, change nothing.
    m.connect(b"").close()
    idle = m.connect(b"")
    watcher = m.attach()
    harness.runc("kill", m.cid, "KILL")
    assert recv_all(watcher) == b""
    assert recv_all(idle) == b""
    assert m.wait() == 0
    assert m.exit_record()["exitCode"] == 137


def test_container_starts_with_default_signal_dispositions(harness):
    # The monitor ignores SIGPIPE/SIGHUP and blocks SIGCHLD for itself; none of that (nor
    # glibc's internal signals, which posix_spawn would leave ignored) may reach the container.
    m = harness.start_container(["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"], "--hold-output", "1")
    m.ok_pid()
    client = m.attach()
    out = joined(read_frames(recv_all(client)), 1)
    assert out == b"SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    assert m.wait() == 0


def test_json_log_replaces_each_invalid_utf8_byte_like_docker(harness):
    # Valid: é, 😀. Invalid, one U+FFFD per byte as Go's encoder (and so docker) writes:
    # overlong C0 80, surrogate ED A0 80, truncated E2 82, beyond U+10FFFF F4 90 80 80.
    script = r"printf '\303\251\360\237\230\200|\300\200|\355\240\200|\342\202A|\364\220\200\200|\177\033\n'"
    m = harness.start_container(["sh", "-c", script])
    m.ok_pid()
    assert m.wait() == 0
    with open(os.path.join(m.dir, "container-json.log"), "rb") as f:
        raw = f.read()
    raw.decode("utf-8")  # the log itself is always valid UTF-8
    entries = [json.loads(line) for line in raw.splitlines()]
    bad = "\ufffd"
    assert [e["log"] for e in entries] == [
        f"é😀|{bad * 2}|{bad * 3}|{bad * 2}A|{bad * 4}|\x7f\x1b\n"]


def test_exec_without_output_and_without_client_ends_at_once(harness):
    container = harness.start_container(["sleep", "1000"])
    container.ok_pid()
    process = write_process(harness, ["true"])
    directory = harness.monitor_dir()
    m = harness.spawn(harness.exec_args(container.cid, process, directory), directory)
    m.ok_pid()
    started = time.monotonic()
    assert m.wait() == 0
    assert time.monotonic() - started < 2.5
    assert m.exit_record()["exitCode"] == 0


def test_container_inherits_only_stdio(harness):
    # fd 3 is ls's own directory handle; the report pipe, sockets and the log must not leak.
    m = harness.start_container(["ls", "/proc/self/fd"], "--hold-output", "1")
    m.ok_pid()
    client = m.attach()
    assert joined(read_frames(recv_all(client)), 1).split() == [b"0", b"1", b"2", b"3"]
    assert m.wait() == 0


def test_restart_in_the_same_directory_replaces_the_old_verdict(harness):
    first = harness.start_container(["sh", "-c", "echo run1; exit 1"])
    first.ok_pid()
    assert first.wait() == 0 and first.exit_record()["exitCode"] == 1
    second = harness.spawn(harness.container_args(first.cid, harness.bundle(["sh", "-c", "read x; echo run2"]),
                                                  first.dir, "--stdin", "--hold-output", "1"), first.dir)
    second.cid = first.cid
    second.ok_pid()
    assert not os.path.exists(os.path.join(first.dir, "exit.json"))
    client = second.attach(stdin=1)
    client.sendall(b"\n")
    assert joined(read_frames(recv_all(client)), 1) == b"run2\n"
    assert second.wait() == 0 and second.exit_record()["exitCode"] == 0
    with open(os.path.join(first.dir, "container-json.log")) as f:
        assert [json.loads(line)["log"] for line in f] == ["run1\n", "run2\n"]


def log_bytes(m):
    with open(os.path.join(m.dir, "container-json.log")) as f:
        return "".join(json.loads(line)["log"] for line in f)


def test_output_beyond_what_is_kept_waits_for_the_expected_client(harness):
    # 300 000 bytes before the client comes: more than the 64 KiB kept, so the monitor stops
    # reading until the client attaches, and nothing is lost, neither for it nor in the log.
    m = harness.start_container(["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' y; echo end"], "--hold-output", "1")
    m.ok_pid()
    time.sleep(1.0)
    assert harness.state(m.cid)["status"] == "running"
    client = m.attach()
    assert joined(read_frames(recv_all(client)), 1) == b"y" * 300000 + b"end\n"
    assert m.wait() == 0
    assert log_bytes(m) == "y" * 300000 + "end\n"


def test_kept_output_is_released_when_the_expected_client_never_comes(harness):
    m = harness.start_container(["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' y; echo end"], "--hold-output", "1")
    m.ok_pid()
    started = time.monotonic()
    assert m.wait(timeout=30) == 0
    # Held for the 5 s the monitor gives an expected client, then drained into the log.
    assert time.monotonic() - started >= 4.0
    assert log_bytes(m) == "y" * 300000 + "end\n"
    assert m.exit_record()["exitCode"] == 0


def test_hold_output_needs_a_small_count(harness):
    directory = harness.monitor_dir()
    m = harness.spawn(harness.container_args("x", "/nonexistent", directory, "--hold-output", "many"), directory)
    assert m.read_report().startswith(b"error --hold-output takes a number of clients from 0 to 64, got many")
    assert m.wait() == 2
