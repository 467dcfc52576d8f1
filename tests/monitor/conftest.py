"""Fixtures for berth-monitor end-to-end tests.

Each test gets a `Harness`: a private temporary directory (busybox bundles, a runc root, monitor
directories) and bookkeeping so that every container, monitor and directory it made is removed
afterwards, even when the test fails. Requires root, runc and /bin/busybox (busybox-static).

    swift build --product berth-monitor && python3 -m pytest -q tests/monitor
    # the shipped build, with the memory budget checked:
    swift build -c release --product berth-monitor -Xswiftc -static-executable
    BERTH_MONITOR=.build/release/berth-monitor BERTH_MONITOR_PSS_LIMIT_KIB=450 \
        python3 -m pytest -q -s tests/monitor
"""
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MONITOR = os.environ.get("BERTH_MONITOR", os.path.join(REPO, ".build", "debug", "berth-monitor"))
RUNC = os.environ.get("BERTH_TEST_RUNTIME", "/usr/sbin/runc")
BERTH_RUNTIME = os.environ.get("BERTH_RUNTIME", os.path.join(os.path.dirname(MONITOR), "berth-runtime"))
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "cat", "echo", "sleep", "stty", "printf", "head", "tr", "grep", "true", "ls"]


def pid_alive(pid):
    """Whether `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def read_frames(data):
    """Splits docker stdcopy frames into [(stream, payload)]; asserts the framing is exact."""
    frames = []
    offset = 0
    while offset < len(data):
        assert len(data) - offset >= 8, f"truncated frame header at {offset}: {data[offset:]!r}"
        stream, size = data[offset], struct.unpack(">I", data[offset + 4:offset + 8])[0]
        assert data[offset + 1:offset + 4] == b"\0\0\0"
        payload = data[offset + 8:offset + 8 + size]
        assert len(payload) == size, "truncated frame payload"
        frames.append((stream, payload))
        offset += 8 + size
    return frames


def joined(frames, stream):
    return b"".join(p for s, p in frames if s == stream)


class Monitor:
    """A berth-monitor started the way the daemon starts it: own session, stdio on /dev/null,
    fd 3 a pipe carrying the one-line start report."""

    def __init__(self, harness, directory, process, report_fd):
        self.harness = harness
        self.dir = directory
        self.process = process
        self._report_fd = report_fd
        self.report = None

    def read_report(self, timeout=20.0):
        """The fd-3 line (b"" if the monitor closed fd 3 without writing)."""
        if self.report is None:
            data = b""
            deadline = time.monotonic() + timeout
            while not data.endswith(b"\n") and time.monotonic() < deadline:
                chunk = os.read(self._report_fd, 4096)
                if not chunk:
                    break
                data += chunk
            os.close(self._report_fd)
            self.report = data
        return self.report

    def ok_pid(self):
        line = self.read_report()
        assert line.startswith(b"ok "), f"monitor reported {line!r}; monitor.log: {self.log_text()}"
        return int(line[3:].strip())

    @property
    def sock_path(self):
        return os.path.join(self.dir, "attach.sock")

    def connect(self, line, timeout=15.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.sock_path)
        s.sendall(line)
        self.harness.sockets.append(s)
        return s

    def attach(self, stdin=0, stdout=1, stderr=1):
        """An attached connection; returns once the monitor acknowledged it with `ok\n`, so all
        output produced from then on reaches it."""
        s = self.connect(f"attach stdin={stdin} stdout={stdout} stderr={stderr}\n".encode())
        ack = b""
        while len(ack) < 3:
            chunk = s.recv(3 - len(ack))
            assert chunk, f"attach not acknowledged, got {ack!r}"
            ack += chunk
        assert ack == b"ok\n"
        return s

    def resize(self, rows, cols):
        s = self.connect(f"resize {rows} {cols}\n".encode())
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            reply += chunk
        s.close()
        return reply

    def wait(self, timeout=30.0):
        return self.process.wait(timeout=timeout)

    def exit_record(self):
        with open(os.path.join(self.dir, "exit.json")) as f:
            return json.load(f)

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "monitor.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""


class Harness:
    """`mode` is "runc" (the monitor executes runc for every step) or "in-process" (it runs
    Berth's own runtime in forked children; exec and the test's own runtime calls use
    berth-runtime on the same state root)."""

    def __init__(self, root, mode):
        self.root = root
        self.in_process = mode == "in-process"
        self.runtime = BERTH_RUNTIME if self.in_process else RUNC
        self.runc_root = os.path.join(root, "runc")
        self.ids = []
        self.monitors = []
        self.extra_pids = []
        self.sockets = []
        self.popens = []

    # Bundles -------------------------------------------------------------------------------

    def bundle(self, args, terminal=False, name=None, config_edit=None):
        """A busybox OCI bundle made with `runc spec`, running `args`."""
        path = os.path.join(self.root, name or f"bundle-{uuid.uuid4().hex[:6]}")
        bin_dir = os.path.join(path, "rootfs", "bin")
        os.makedirs(bin_dir)
        shutil.copy2(BUSYBOX, os.path.join(bin_dir, "busybox"))
        for applet in APPLETS:
            os.symlink("busybox", os.path.join(bin_dir, applet))
        os.makedirs(os.path.join(path, "rootfs", "tmp"))
        subprocess.run([RUNC, "spec"], cwd=path, check=True)
        config_path = os.path.join(path, "config.json")
        with open(config_path) as f:
            config = json.load(f)
        config["process"]["terminal"] = terminal
        config["process"]["args"] = args
        if config_edit:
            config_edit(config)
        with open(config_path, "w") as f:
            json.dump(config, f)
        return path

    def new_id(self):
        cid = f"bm-{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def runc(self, *args, check=True):
        """Runs the runtime of this harness's mode (runc or berth-runtime) on its state root."""
        return subprocess.run([self.runtime, "--root", self.runc_root, *args], capture_output=True, check=check, timeout=30)

    def state(self, cid):
        result = self.runc("state", cid, check=False)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)

    # Monitors ------------------------------------------------------------------------------

    def monitor_dir(self):
        path = os.path.join(self.root, f"m-{uuid.uuid4().hex[:6]}")
        os.makedirs(path)
        return path

    def container_args(self, cid, bundle, directory, *flags):
        mode = ["--in-process"] if self.in_process else []
        return [MONITOR, "container", "--runtime", self.runtime, "--runtime-root", self.runc_root,
                "--bundle", bundle, "--id", cid, "--dir", directory, *mode, *flags]

    def exec_args(self, cid, process_json, directory, *flags):
        return [MONITOR, "exec", "--runtime", self.runtime, "--runtime-root", self.runc_root,
                "--id", cid, "--process", process_json, "--dir", directory, *flags]

    def spawn(self, argv, directory, via_shell=False):
        """Starts `argv` like the daemon does, with fd 3 the write end of a report pipe."""
        read_end, write_end = os.pipe()
        high = fcntl.fcntl(write_end, fcntl.F_DUPFD_CLOEXEC, 20)
        os.close(write_end)
        if via_shell:
            # An intermediate parent that the test can kill; the monitor must not care.
            argv = ["/bin/sh", "-c", '"$@" & wait', "sh", *argv]
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, start_new_session=True, preexec_fn=lambda: os.dup2(high, 3))
        os.close(high)
        self.popens.append(process)
        monitor = Monitor(self, directory, process, read_end)
        self.monitors.append(monitor)
        return monitor

    def start_container(self, args, *flags, terminal=False):
        cid = self.new_id()
        bundle = self.bundle(args, terminal=terminal)
        directory = self.monitor_dir()
        monitor = self.spawn(self.container_args(cid, bundle, directory, *flags), directory)
        monitor.cid = cid
        return monitor

    # Cleanup -------------------------------------------------------------------------------

    def cleanup(self):
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass
        for cid in self.ids:
            subprocess.run([self.runtime, "--root", self.runc_root, "delete", "--force", cid], capture_output=True, timeout=30)
        pids = set(self.extra_pids)
        for monitor in self.monitors:
            try:
                with open(os.path.join(monitor.dir, "monitor.pid")) as f:
                    pids.add(int(f.read().strip()))
            except (FileNotFoundError, ValueError):
                pass
            if monitor.report is None:
                try:
                    os.close(monitor._report_fd)
                except OSError:
                    pass
        for process in self.popens:
            pids.add(process.pid)
        for pid in pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for process in self.popens:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for pid in pids:
            wait_until(lambda: not pid_alive(pid), timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(params=["runc", "in-process"])
def harness(request):
    if os.geteuid() != 0:
        pytest.skip("berth-monitor tests need root")
    for program in [MONITOR] + ([BERTH_RUNTIME] if request.param == "in-process" else []):
        if not os.access(program, os.X_OK):
            pytest.fail(f"{program} missing: run `swift build` first")
    root = tempfile.mkdtemp(prefix="bm-", dir="/tmp")
    h = Harness(root, request.param)
    try:
        yield h
    finally:
        h.cleanup()
