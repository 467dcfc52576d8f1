"""Fixtures for the runtime behaviour tests.

Every test runs once per runtime (berth-runtime from .build/debug and runc), against a fresh
busybox bundle, a private state root and a cgroup under /berth-test-<pid>/. Containers,
cgroups and directories are removed after each test even when it fails.
"""
import copy
import json
import os
import shutil
import sys
import subprocess
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from berth_testlib import remove_cgroups  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BERTH_RUNTIME = os.path.join(REPO, ".build", "debug", "berth-runtime")
RUNC = shutil.which("runc") or "/usr/sbin/runc"
BUSYBOX = "/bin/busybox"
CGROUP_PARENT = "/berth-test-%d" % os.getpid()


def _spec_template():
    """`runc spec` output, made once per session."""
    workdir = "/tmp/berth-runtime-spec-%d" % os.getpid()
    os.makedirs(workdir, exist_ok=True)
    try:
        subprocess.run([RUNC, "spec"], cwd=workdir, check=True)
        with open(os.path.join(workdir, "config.json")) as f:
            return json.load(f)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


SPEC_TEMPLATE = _spec_template()
BUSYBOX_APPLETS = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()


class Bundle:
    """A bundle directory with a busybox rootfs and an editable config."""

    def __init__(self, path, container_id):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
            os.makedirs(os.path.join(self.rootfs, d), exist_ok=True)
        shutil.copy2(BUSYBOX, os.path.join(self.rootfs, "bin", "busybox"))
        for applet in BUSYBOX_APPLETS:
            link = os.path.join(self.rootfs, "bin", applet)
            if not os.path.lexists(link):
                os.symlink("busybox", link)
        self.config = copy.deepcopy(SPEC_TEMPLATE)
        self.config["process"]["terminal"] = False
        self.config["process"]["args"] = ["true"]
        self.config["hostname"] = "berth-test"
        self.config["linux"]["cgroupsPath"] = "%s/%s" % (CGROUP_PARENT, container_id)

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def write(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)


class Runtime:
    """One runtime binary with a private --root, and helpers to drive it like an engine."""

    def __init__(self, name, binary, root, workdir):
        self.name = name
        self.binary = binary
        self.root = root
        self.workdir = workdir
        self.created = []

    def cmd(self, *args, timeout=30, **kwargs):
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run([self.binary, "--root", self.root, *args], timeout=timeout, **kwargs)

    def new_bundle(self, args=None):
        container_id = "t-%s" % uuid.uuid4().hex[:12]
        path = os.path.join(self.workdir, container_id)
        os.makedirs(path)
        bundle = Bundle(path, container_id)
        if args is not None:
            bundle.process["args"] = args
        return container_id, bundle

    def run(self, bundle, container_id, *extra):
        """`run` in the foreground; returns the CompletedProcess."""
        bundle.write()
        self.created.append(container_id)
        return self.cmd("run", "--bundle", bundle.path, *extra, container_id)

    def create(self, bundle, container_id, *extra):
        """`create` with stdio to files (init keeps them open); returns (result, out, err paths)."""
        bundle.write()
        self.created.append(container_id)
        out_path = os.path.join(bundle.path, "stdout")
        err_path = os.path.join(bundle.path, "stderr")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            result = self.cmd("create", "--bundle", bundle.path, *extra, container_id,
                              stdout=out, stderr=err, capture_output=False)
        return result, out_path, err_path

    def state(self, container_id):
        result = self.cmd("state", container_id)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_status(self, container_id, status, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.state(container_id)["status"] == status:
                return
            time.sleep(0.02)
        raise AssertionError("%s did not reach %s" % (container_id, status))

    def cleanup(self):
        for container_id in self.created:
            self.cmd("delete", "--force", container_id)


@pytest.fixture(scope="session", autouse=True)
def test_cgroups():
    yield
    remove_cgroups(CGROUP_PARENT)


@pytest.fixture(params=["berth-runtime", "runc"])
def runtime(request, tmp_path):
    binary = BERTH_RUNTIME if request.param == "berth-runtime" else RUNC
    if not os.path.exists(binary):
        pytest.fail("%s not found at %s (swift build --product berth-runtime)" % (request.param, binary))
    root = str(tmp_path / "state")
    workdir = str(tmp_path / "bundles")
    os.makedirs(workdir)
    rt = Runtime(request.param, binary, root, workdir)
    try:
        yield rt
    finally:
        rt.cleanup()
        shutil.rmtree(str(tmp_path), ignore_errors=True)
