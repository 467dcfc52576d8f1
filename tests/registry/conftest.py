"""Fixtures for the pull tests: a private berthd (its docker CLI calls use a private, empty
DOCKER_CONFIG), Debian's docker-registry anonymous, with basic auth and with token auth, a
misbehaving registry, unique repository names and self-removing scratch directories.

Everything here listens on 127.0.0.1 only and is torn down even when a test fails.
Run as root from the repository root:  python3 -m pytest tests/registry
(`BERTH_BUILD_DIR=/path/to/bin` tests binaries built elsewhere.)"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from berth_testlib import Daemon, binary, make_busybox_tar  # noqa: E402
from registry_testlib import (  # noqa: E402,F401
    DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Dir, File, HostileRegistry, Registry, Symlink, free_port,
    http_request, make_oci_layout, sha256_digest, whiteout)

USER, PASSWORD = "berth", "pull-secret-1"


def require_tools():
    missing = [p for p in ("docker", "docker-registry", "skopeo") if not shutil.which(p)]
    for module in ("bcrypt", "cryptography", "docker"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"python module {module}")
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/install-deps.sh", pytrace=False)


class PullDaemon(Daemon):
    """A Daemon whose docker and berth CLIs never read ~/.docker: DOCKER_CONFIG is a private
    empty dir unless a test passes its own (env={"DOCKER_CONFIG": …})."""

    def __init__(self):
        super().__init__()
        self.docker_config = os.path.join(self.base, "docker-config")
        os.makedirs(self.docker_config)

    def _env(self, env=None):
        return dict({"DOCKER_CONFIG": self.docker_config}, **(env or {}))

    def docker(self, *args, env=None, input=b"", **kwargs):
        # stdin is empty, never the test runner's (the CLI prompts for a login when a daemon
        # answers a pull with HTTP 401, and then still waits: assert_pull_fails times out on it).
        return super().docker(*args, env=self._env(env), input=input, **kwargs)

    def berth(self, *args, input=b"", check=False, timeout=60, env=None):
        """Berth's own CLI, with the same private DOCKER_CONFIG."""
        r = subprocess.run([binary("berth"), "-H", self.host, *args], input=input, capture_output=True,
                           timeout=timeout, env=dict(os.environ, **self._env(env)))
        if check and r.returncode != 0:
            raise AssertionError(f"berth {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r

    def docker_popen(self, *args, env=None):
        """`docker ARGS` in the background (stdout and stderr piped)."""
        e = dict(os.environ, DOCKER_HOST=self.host, DOCKER_BUILDKIT="0", **self._env(env))
        e.pop("DOCKER_CONTEXT", None)
        return subprocess.Popen(["docker", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=e)


@pytest.fixture(scope="session")
def busybox_tar():
    require_tools()
    directory = tempfile.mkdtemp(prefix="bt-busybox-")
    try:
        yield make_busybox_tar(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon():
    require_tools()
    d = PullDaemon()
    try:
        d.start()
        yield d
    finally:
        d.cleanup()


def _own_daemon(prepare=None):
    require_tools()
    d = PullDaemon()
    try:
        if prepare:
            prepare(d)
        d.start()
        yield d
    finally:
        d.cleanup()


def _small_disk(d):
    os.makedirs(d.root, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", d.root], check=True)


@pytest.fixture
def small_disk_daemon():
    """A daemon whose whole data root is a 48 MiB tmpfs, to run out of space on purpose."""
    yield from _own_daemon(_small_disk)


@pytest.fixture
def fresh_daemon():
    """A daemon of its own, for tests that kill or restart it."""
    yield from _own_daemon()


@pytest.fixture(scope="module")
def registry():
    """Anonymous docker-registry."""
    require_tools()
    with Registry() as r:
        yield r


@pytest.fixture(scope="module")
def basic_registry():
    """docker-registry with basic auth: USER / PASSWORD."""
    require_tools()
    with Registry(htpasswd={USER: PASSWORD}) as r:
        yield r


@pytest.fixture(scope="module")
def token_registry():
    """docker-registry with bearer tokens from a TokenServer: USER / PASSWORD may pull and push
    everywhere, anonymous users may pull repositories named public/…"""
    require_tools()
    with Registry(htpasswd={USER: PASSWORD}, token_auth=True, public=("public/",)) as r:
        yield r


@pytest.fixture
def hostile():
    with HostileRegistry() as h:
        yield h


@pytest.fixture
def workdir():
    """A scratch directory removed after the test (layouts can be large)."""
    directory = tempfile.mkdtemp(prefix="bt-pull-")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def docker_config(workdir):
    """An empty DOCKER_CONFIG for login tests: env={"DOCKER_CONFIG": docker_config}."""
    path = os.path.join(workdir, "docker-config")
    os.makedirs(path)
    return path


@pytest.fixture
def repo(request):
    """A repository name of this test's own: t/<test name>."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return "t/" + name[:80].strip("-")
