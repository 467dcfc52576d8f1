"""What a hostile image or a hostile running container can try against the daemon: files that
are FIFOs, devices or links where the daemon expects plain files (the user resolver, `docker
load`), files swapped under `docker commit`, and writable submounts under a read-only bind.
Each must end quickly with a clear answer, never hang the daemon or read host data."""
import io
import json
import os
import subprocess
import tarfile
import time

import pytest

from .conftest import RUNTIMES
from .test_hostile import snapshot, tar_of, file_entry


def special(name, kind, major=0, minor=0, target=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o644
    info.devmajor, info.devminor = major, minor
    if target:
        info.linkname = target
    return info, None


def import_with(daemon, busybox_tar, tmp_path, tag, *entries):
    """busybox with `entries` appended (a later entry replaces an earlier one of that name)."""
    image = tmp_path / (tag.replace(":", "_") + ".tar")
    with open(busybox_tar, "rb") as f:
        base = f.read()
    with tarfile.open(fileobj=io.BytesIO(base)) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    with tarfile.open(image, "w") as t:
        for info, data in members + list(entries):
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    with open(image, "rb") as f:
        r = daemon.docker("import", "-", tag, input=f.read())
    assert r.returncode == 0, r.stderr


def test_a_fifo_or_device_as_etc_passwd_does_not_hang_the_daemon(daemon, busybox_tar, tmp_path):
    import_with(daemon, busybox_tar, tmp_path, "fifo-passwd:1",
                special("etc/passwd", tarfile.FIFOTYPE), special("etc/group", tarfile.CHRTYPE, 1, 5))
    try:
        start = time.monotonic()
        r = daemon.docker("run", "--rm", "-u", "nobody", "fifo-passwd:1", "true", timeout=30)
        assert r.returncode == 125
        assert b"unable to find user nobody" in r.stderr
        r = daemon.docker("run", "--rm", "-u", "0:wheel", "fifo-passwd:1", "true", timeout=30)
        assert r.returncode == 125
        assert b"unable to find group wheel" in r.stderr
        r = daemon.docker("run", "--rm", "fifo-passwd:1", "echo", "ran", timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"ran\n"
        assert time.monotonic() - start < 20
    finally:
        daemon.docker("rmi", "-f", "fifo-passwd:1")


def test_load_does_not_follow_fifos_devices_or_links_out_of_the_archive(daemon, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('[{"Config": "x.json", "RepoTags": ["leaked:1"], "Layers": []}]')
    cases = [
        [special("manifest.json", tarfile.SYMTYPE, target=str(secret))],
        [special("manifest.json", tarfile.FIFOTYPE)],
        [special("manifest.json", tarfile.CHRTYPE, 1, 5)],
        [file_entry("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["dev:1"], "Layers": []}]).encode()),
         special("c.json", tarfile.CHRTYPE, 1, 5)],
        [file_entry("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["link:1"], "Layers": []}]).encode()),
         special("c.json", tarfile.SYMTYPE, target="/etc/hostname")],
        [file_entry("index.json", b""), special("index.json", tarfile.FIFOTYPE)],
    ]
    for entries in cases:
        before = snapshot(daemon)
        start = time.monotonic()
        r = daemon.docker("load", input=tar_of(entries), timeout=60)
        assert r.returncode != 0, entries
        assert time.monotonic() - start < 30
        assert b"leaked" not in r.stdout + r.stderr
        assert snapshot(daemon) == before


def test_commit_of_a_container_that_swaps_files_never_hangs(daemon):
    # The container turns /f into a FIFO, a device node and a file, over and over.
    script = ("while true; do rm -f /f; mkfifo /f; rm -f /f; mknod /f c 1 5; rm -f /f; echo x > /f; done")
    cid = daemon.docker("run", "-d", "busybox", "sh", "-c", script).stdout.decode().strip()
    images = []
    try:
        for pause in ("--pause=true", "--pause=false", "--pause=false", "--pause=false"):
            r = daemon.docker("commit", pause, cid, timeout=60)
            if r.returncode == 0:
                images.append(r.stdout.decode().strip())
            else:
                assert b"was replaced while the layer was being written" in r.stderr, r.stderr
        # Paused, the container cannot swap anything: that commit always succeeds.
        assert images, "the paused commit failed"
        assert daemon.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == b"running"
        for image in images:
            r = daemon.docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                              "if [ -f /f ]; then head -c 16 /f; fi; ls -l /f 2>/dev/null | cut -c1", timeout=60)
            # A regular /f holds what the container wrote, never bytes of a device.
            assert r.stdout.split(b"\n")[0] in (b"x", b"", b"-", b"p", b"c"), r.stdout
    finally:
        daemon.docker("rm", "-f", cid)
        for image in images:
            daemon.docker("rmi", "-f", image)


def test_commit_pauses_a_running_container(daemon):
    cid = daemon.docker("run", "-d", "busybox", "sh", "-c", "echo hi > /made; sleep 600").stdout.decode().strip()
    try:
        for _ in range(50):
            if daemon.docker("exec", cid, "test", "-f", "/made").returncode == 0:
                break
            time.sleep(0.1)
        r = daemon.docker("commit", cid, "paused-commit:1")
        assert r.returncode == 0, r.stderr
        assert daemon.docker("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == b"running"
        assert daemon.docker("exec", cid, "echo", "thawed").stdout == b"thawed\n"
        assert daemon.docker("run", "--rm", "paused-commit:1", "cat", "/made").stdout == b"hi\n"
    finally:
        daemon.docker("rm", "-f", cid)
        daemon.docker("rmi", "-f", "paused-commit:1")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_read_only_bind_is_read_only_all_the_way_down(daemon, runtime, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "berth-test", str(sub)], check=True)
    try:
        r = daemon.docker("run", "--rm", "--runtime", runtime, "-v", f"{tmp_path}:/host:ro", "busybox", "sh", "-c",
                          "exec 2>&1; touch /host/top; touch /host/sub/below; true")
        assert r.stdout.count(b"Read-only file system") == 2, r.stdout
        assert not (sub / "below").exists()
        r = daemon.docker("run", "--rm", "--runtime", runtime, "--mount", f"type=bind,source={tmp_path},target=/host,readonly",
                          "busybox", "sh", "-c", "exec 2>&1; touch /host/sub/below; true")
        assert b"Read-only file system" in r.stdout, r.stdout
        r = daemon.docker("run", "--rm", "--runtime", runtime, "-v", f"{tmp_path}:/host", "busybox", "touch", "/host/sub/rw")
        assert r.returncode == 0, r.stderr
        assert (sub / "rw").exists()
    finally:
        subprocess.run(["umount", "-l", str(sub)])


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cgroup_namespace_private_and_host(daemon, runtime):
    r = daemon.docker("run", "--rm", "--runtime", runtime, "--cgroupns", "private", "busybox", "cat", "/proc/self/cgroup")
    assert r.returncode == 0, r.stderr
    assert all(line.endswith(b":/") for line in r.stdout.splitlines()), r.stdout
    r = daemon.docker("run", "--rm", "--runtime", runtime, "--cgroupns", "host", "busybox", "cat", "/proc/self/cgroup")
    assert any(b"/berth/" in line for line in r.stdout.splitlines()), r.stdout
    r = daemon.docker("create", "--cgroupns", "sideways", "busybox")
    assert r.returncode != 0
    default = "private" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "host"
    cid = daemon.docker("create", "busybox", "true").stdout.decode().strip()
    try:
        assert daemon.docker("inspect", "-f", "{{.HostConfig.CgroupnsMode}}", cid).stdout.strip() == default.encode()
    finally:
        daemon.docker("rm", "-f", cid)
