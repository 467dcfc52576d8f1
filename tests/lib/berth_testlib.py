"""Shared helpers for Berth's end-to-end tests: where the binaries are, a busybox root
filesystem made from Debian's busybox-static, and a real berthd on a private root and socket
that cleans up after itself (containers, monitors, mounts, files) even when a test fails."""
import json
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BERTH_BUILD_DIR", os.path.join(REPO, ".build", "debug"))


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: build with `swift build` first")
    return path


def make_busybox_tar(directory):
    """A busybox rootfs tarball (scripts/make-busybox-rootfs.sh) in `directory`."""
    out = os.path.join(directory, "busybox-rootfs.tar")
    subprocess.run(["bash", os.path.join(REPO, "scripts", "make-busybox-rootfs.sh"), out], check=True)
    return out


def mounts_under(path):
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p == path or p.startswith(path + "/")]


def processes_mentioning(text):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


class Daemon:
    """A berthd with its own root, exec root and socket under a fresh /tmp directory."""

    def __init__(self, default_runtime="berth", extra_args=()):
        # Short base path: monitor sockets live under it (Unix socket paths are limited).
        self.base = tempfile.mkdtemp(prefix="bt-", dir="/tmp")
        self.root = os.path.join(self.base, "root")
        self.exec_root = os.path.join(self.base, "run")
        self.socket = os.path.join(self.base, "berth.sock")
        self.host = "unix://" + self.socket
        self.default_runtime = default_runtime
        # A default bridge of its own, so daemons running side by side never share one.
        self.bridge = "bt" + os.path.basename(self.base)[3:11].replace("_", "0")
        self.extra_args = ["--bridge", self.bridge, *extra_args]
        self.proc = None
        self.log_path = os.path.join(self.base, "berthd.log")
        self.log_kept = False

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [binary("berthd"), "--root", self.root, "--exec-root", self.exec_root, "--host", self.host,
             "--default-runtime", self.default_runtime, *self.extra_args],
            stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("berthd exited: " + self.log())
            if self.ping():
                return self
            time.sleep(0.05)
        raise RuntimeError("berthd did not answer /_ping: " + self.log())

    def ping(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(self.socket)
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            ok = s.recv(100).startswith(b"HTTP/1.1 200")
            s.close()
            return ok
        except OSError:
            return False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()
        if self.proc and self.proc.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL) and not self.log_kept:
            self.keep_log("before it was stopped")

    def keep_log(self, when):
        """Copies the log of a daemon that died (to /tmp/berthd-died-<pid>.log) and says so."""
        self.log_kept = True
        kept = f"/tmp/berthd-died-{self.proc.pid}.log"
        shutil.copy(self.log_path, kept)
        sys.stderr.write(f"berthd exited {self.proc.returncode} {when}; log kept in {kept}\n")

    def docker(self, *args, input=None, check=False, timeout=60, env=None):
        """Runs the real docker CLI against this daemon."""
        e = dict(os.environ, DOCKER_HOST=self.host, DOCKER_BUILDKIT="0")
        e.pop("DOCKER_CONTEXT", None)
        if env:
            e.update(env)
        r = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=timeout, env=e)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r

    def berth(self, *args, input=None, check=False, timeout=60):
        """Runs Berth's own CLI against this daemon."""
        r = subprocess.run([binary("berth"), "-H", self.host, *args], input=input, capture_output=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"berth {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r

    def client(self):
        import docker
        return docker.DockerClient(base_url=self.host, version="1.44", timeout=60)

    def import_busybox(self, tar, tag="busybox:latest"):
        with open(tar, "rb") as f:
            self.docker("import", "-c", 'CMD ["sh"]', "-", tag, input=f.read(), check=True)

    def cleanup(self):
        """Removes every container, stops the daemon, then makes sure nothing is left behind.
        A daemon that died on its own has its log kept as /tmp/berthd-died-<pid>.log."""
        if self.proc and self.proc.poll() is not None and self.proc.returncode not in (0, -signal.SIGKILL):
            self.keep_log("on its own")
        if self.proc and self.proc.poll() is None:
            ids = self.docker("ps", "-aq", timeout=30).stdout.split()
            if ids:
                self.docker("rm", "-f", *[i.decode() for i in ids], timeout=60)
        self.stop()
        for pid in processes_mentioning(self.base):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for runtime_root in (os.path.join(self.exec_root, "runtime-runc"), os.path.join(self.exec_root, "runtime-berth")):
            if os.path.isdir(runtime_root):
                for cid in os.listdir(runtime_root):
                    runtime = "runc" if runtime_root.endswith("runc") else binary("berth-runtime")
                    subprocess.run([runtime, "--root", runtime_root, "delete", "--force", cid], capture_output=True)
        for point in sorted(mounts_under(self.base), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
        for link in self.bridges():
            subprocess.run(["ip", "link", "delete", link], capture_output=True)
        for family in ("ip", "ip6", "bridge"):
            subprocess.run(["nft", "delete", "table", family, "berth_" + self.bridge], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
        remove_cgroups("berth")

    def bridges(self):
        """The Linux bridges of this daemon's bridge networks (those its table names)."""
        try:
            with open(os.path.join(self.root, "networks", "networks.json")) as f:
                table = json.load(f)
        except (OSError, ValueError):
            return [self.bridge]
        names = [self.bridge]
        for network in table:
            if network.get("driver") == "bridge":
                names.append((network.get("options") or {}).get("com.docker.network.bridge.name") or "br-" + network["id"][:12])
        return sorted(set(names))


def remove_cgroups(prefix):
    """Removes empty leftover cgroups `/<prefix>/<child>` in every hierarchy (cgroup v1
    controllers, the hybrid unified one, or pure v2), then `/<prefix>` itself when empty."""
    base = "/sys/fs/cgroup"
    for hierarchy in [os.path.join(base, d) for d in os.listdir(base)] + [base]:
        parent = os.path.join(hierarchy, prefix.strip("/"))
        if not os.path.isdir(parent):
            continue
        for child in os.listdir(parent):
            path = os.path.join(parent, child)
            if os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        try:
            os.rmdir(parent)
        except OSError:
            pass


def build_probe(directory):
    """The static probe (tests/lib/probe.c) built with gcc into `directory`; it runs inside
    busybox containers when bind-mounted, and reports what each attempted syscall returned."""
    out = os.path.join(directory, "probe")
    subprocess.run(["gcc", "-static", "-O1", "-o", out, os.path.join(REPO, "tests", "lib", "probe.c")], check=True)
    return out


def probe_results(output):
    """{attempt: "ok" | errno name} from the probe's lines; `values` gets what an "ok" returned."""
    results = {}
    for line in output.decode().splitlines():
        name, _, outcome = line.partition(": ")
        results[name] = outcome.split()[0] if outcome else ""
    return results


def probe_values(output):
    """{attempt: the number an "ok" attempt returned} from the probe's lines."""
    values = {}
    for line in output.decode().splitlines():
        name, _, outcome = line.partition(": ")
        words = outcome.split()
        if len(words) == 2 and words[0] == "ok":
            values[name] = int(words[1])
    return values


def free_subordinate_start():
    """A start above every range already in /etc/subuid and /etc/subgid (at least 200000)."""
    end = 200000
    for path in ("/etc/subuid", "/etc/subgid"):
        if os.path.exists(path):
            for line in open(path):
                fields = line.strip().split(":")
                if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                    end = max(end, int(fields[1]) + int(fields[2]))
    return end


def remove_user(name):
    """Removes a host user, its group and its /etc/subuid and /etc/subgid lines."""
    subprocess.run(["userdel", name], capture_output=True)
    subprocess.run(["groupdel", name], capture_output=True)
    for path in ("/etc/subuid", "/etc/subgid"):
        if os.path.exists(path):
            lines = [line for line in open(path) if not line.startswith(name + ":")]
            with open(path, "w") as f:
                f.writelines(lines)


@contextlib.contextmanager
def subordinate_user(name, size):
    """A system user `name` with `size` subordinate user and group IDs (for berthd
    --userns-remap); yields the first host ID and removes the user and its ranges after."""
    remove_user(name)
    start = free_subordinate_start()
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/bin/false", name], check=True)
    try:
        span = f"{start}-{start + size - 1}"
        subprocess.run(["usermod", "--add-subuids", span, "--add-subgids", span, name], check=True)
        yield start
    finally:
        remove_user(name)


def wait_for(predicate, timeout=20, step=0.05):
    """Polls `predicate` until it returns something true (returned) or `timeout` seconds pass
    (then its last value)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
