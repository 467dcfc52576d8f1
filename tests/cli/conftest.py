"""Fixtures for the `berth` CLI tests.

`berth_cli` runs the CLI binary from .build/debug. The `daemon` fixture starts a real
`berthd --root <tmp> --host unix://<tmp>/berth.sock` and the `image` fixture imports a tiny
image built from the host's static busybox, so the end-to-end tests need no registry.
Run as root from the repository root:  pytest tests/cli
(`BERTHD=/path/to/berthd` tests against a daemon built elsewhere.)
"""
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from berth_testlib import mounts_under, processes_mentioning  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BERTH = REPO / ".build" / "debug" / "berth"
BERTHD = Path(os.environ.get("BERTHD", REPO / ".build" / "debug" / "berthd"))
BUSYBOX = Path("/bin/busybox")
TEST_IMAGE = "berth-test/busybox:1"


class CLI:
    """Runs `berth` against one daemon socket."""

    def __init__(self, host):
        self.host = host

    def env(self, extra=None):
        env = dict(os.environ)
        env.pop("BERTH_HOST", None)
        if self.host:
            env["BERTH_HOST"] = self.host
        env.update(extra or {})
        return env

    def __call__(self, *args, input=None, timeout=60, env=None, check=False):
        result = subprocess.run(
            [str(BERTH), *args], input=input, capture_output=True, timeout=timeout, env=self.env(env)
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"berth {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout.decode(errors='replace')}\nstderr: {result.stderr.decode(errors='replace')}"
            )
        return result

    def out(self, *args, **kwargs):
        """stdout of a command that must succeed, decoded."""
        return self(*args, check=True, **kwargs).stdout.decode()


@pytest.fixture(scope="session")
def berth_cli():
    """The CLI pointed at a socket where nothing listens (for tests that need no daemon)."""
    assert BERTH.exists(), f"build first: swift build --product berth ({BERTH} missing)"
    return CLI("unix:///nonexistent/berth-test.sock")


@pytest.fixture(scope="session")
def daemon():
    """A running berthd with a temporary root; yields a CLI bound to its socket."""
    assert BERTHD.exists(), f"build first: swift build --product berthd ({BERTHD} missing)"
    workdir = Path(tempfile.mkdtemp(prefix="berth-cli-test-"))
    sock = workdir / "berth.sock"
    # A default bridge of its own (removed below with the daemon's firewall table).
    bridge = "bc" + workdir.name[-8:].replace("_", "0")
    log = open(workdir / "berthd.log", "wb")
    proc = subprocess.Popen(
        [str(BERTHD), "--root", str(workdir / "root"), "--exec-root", str(workdir / "run"),
         "--host", f"unix://{sock}", "--bridge", bridge],
        stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"berthd exited {proc.returncode}: {(workdir / 'berthd.log').read_text()}")
        if sock.exists():
            probe = socket.socket(socket.AF_UNIX)
            try:
                probe.connect(str(sock))
                break
            except OSError:
                pass
            finally:
                probe.close()
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("berthd did not open its socket within 30 s")
    cli = CLI(f"unix://{sock}")
    try:
        yield cli
    finally:
        if proc.poll() is not None:
            shutil.copy(workdir / "berthd.log", f"/tmp/berthd-died-{proc.pid}.log")
            sys.stderr.write(f"berthd exited {proc.returncode} on its own; log kept in /tmp/berthd-died-{proc.pid}.log\n")
        for cid in cli("ps", "-aq", "--no-trunc").stdout.decode().split():
            cli("rm", "-f", cid)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, -15, -9):
            shutil.copy(workdir / "berthd.log", f"/tmp/berthd-died-{proc.pid}.log")
            sys.stderr.write(f"berthd exited {proc.returncode} on SIGTERM; log kept in /tmp/berthd-died-{proc.pid}.log\n")
        log.close()
        # What a daemon that died could not clean up: monitors and containers, then mounts.
        for pid in processes_mentioning(str(workdir)):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        for point in sorted(mounts_under(str(workdir)), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
        for family in ("ip", "ip6", "bridge"):
            subprocess.run(["nft", "delete", "table", family, "berth_" + bridge], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def build_rootfs_tar(path):
    """A root filesystem with a static busybox and the applets the tests use."""
    with tarfile.open(path, "w") as tar:
        for directory in ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "data"]:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(BUSYBOX), arcname="bin/busybox")
        for applet in ["sh", "echo", "cat", "sleep", "ls", "id", "pwd", "hostname", "touch", "stty", "tty",
                       "env", "true", "false", "head", "wc", "ps", "rm", "mkdir", "printf", "tr"]:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        info.mode = 0o644
        import io
        tar.addfile(info, io.BytesIO(passwd))


@pytest.fixture(scope="session")
def image(daemon, tmp_path_factory):
    """`berth-test/busybox:1`, imported into the daemon with PATH set."""
    assert BUSYBOX.exists(), "the tests need a static /bin/busybox on the host"
    tar = tmp_path_factory.mktemp("rootfs") / "rootfs.tar"
    build_rootfs_tar(tar)
    daemon.out("import", "-c", "ENV PATH=/bin", "-c", 'CMD ["sh"]', str(tar), TEST_IMAGE)
    return TEST_IMAGE
