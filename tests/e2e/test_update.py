"""`docker update` against berthd: memory, CPU, cpuset and pids limits of a running container
changed in its cgroups at once (both runtimes) and kept for its next start; the restart policy
changed; docker's refusals. Plus berth's own `update`, `stats`, `events`, `system df` and the
prune commands."""
import json
import os
import time

import docker
import pytest

from .conftest import RUNTIMES


def cgroup_file(pid, controller, name):
    for line in open(f"/proc/{pid}/cgroup").read().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return open(os.path.join("/sys/fs/cgroup", controller, path.lstrip("/"), name)).read().strip()
    raise AssertionError(f"no {controller} cgroup for {pid}")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_update_changes_a_running_container(daemon, runtime):
    name = f"upd-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "-m", "64m", "busybox", "sleep", "300", check=True)
    try:
        pid = json.loads(daemon.docker("inspect", "-f", "{{.State.Pid}}", name, check=True).stdout)
        assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(64 * 1024 * 1024)
        r = daemon.docker("update", "-m", "128m", "--memory-swap", "256m", "--cpu-shares", "512", "--pids-limit", "77",
                          "--cpuset-cpus", "0", "--memory-reservation", "32m", "--restart", "on-failure:4", name)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == name
        assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(128 * 1024 * 1024)
        assert cgroup_file(pid, "memory", "memory.soft_limit_in_bytes") == str(32 * 1024 * 1024)
        assert cgroup_file(pid, "cpu", "cpu.shares") == "512"
        assert cgroup_file(pid, "pids", "pids.max") == "77"
        assert cgroup_file(pid, "cpuset", "cpuset.cpus") == "0"
        host = json.loads(daemon.docker("inspect", "-f", "{{json .HostConfig}}", name, check=True).stdout)
        assert (host["Memory"], host["MemorySwap"], host["CpuShares"], host["PidsLimit"], host["CpusetCpus"]) == \
            (128 * 1024 * 1024, 256 * 1024 * 1024, 512, 77, "0")
        assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 4}
        # Kept for the next start.
        daemon.docker("restart", "-t", "0", name, check=True)
        pid = json.loads(daemon.docker("inspect", "-f", "{{.State.Pid}}", name, check=True).stdout)
        assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(128 * 1024 * 1024)
        assert cgroup_file(pid, "pids", "pids.max") == "77"
    finally:
        daemon.docker("rm", "-f", name)


def test_update_refusals_and_stopped_containers(daemon):
    daemon.docker("create", "--name", "upd-stopped", "busybox", "true", check=True)
    daemon.docker("run", "-d", "--name", "upd-auto", "--rm", "busybox", "sleep", "300", check=True)
    try:
        assert daemon.docker("update", "-m", "50m", "upd-stopped").returncode == 0
        assert json.loads(daemon.docker("inspect", "-f", "{{.HostConfig.Memory}}", "upd-stopped", check=True).stdout) == 50 * 1024 * 1024
        r = daemon.docker("update", "-m", "4m", "upd-stopped")
        assert r.returncode != 0 and b"Minimum memory limit allowed is 6MB" in r.stderr
        r = daemon.docker("update", "-m", "100m", "--memory-swap", "60m", "upd-stopped")
        assert r.returncode != 0 and b"Minimum memoryswap limit should be larger than memory limit" in r.stderr
        r = daemon.docker("update", "--restart", "always", "upd-auto")
        assert r.returncode != 0 and b"Restart policy cannot be updated because AutoRemove is enabled" in r.stderr
        r = daemon.docker("update", "-m", "50m", "no-such-container")
        assert r.returncode != 0 and b"No such container" in r.stderr
        with pytest.raises(docker.errors.APIError) as err:
            daemon.client().api.update_container("upd-stopped", restart_policy={"Name": "sometimes"})
        assert err.value.status_code == 400
    finally:
        daemon.docker("rm", "-f", "upd-stopped", "upd-auto")


def test_berth_cli_update_stats_events_df_and_prune(daemon):
    since = str(int(time.time()) - 1)
    r = daemon.berth("run", "-d", "--name", "bcli", "-m", "64m", "busybox", "sh", "-c", "while true; do :; done")
    assert r.returncode == 0, r.stderr
    try:
        r = daemon.berth("update", "-m", "96m", "--restart", "unless-stopped", "bcli")
        assert r.returncode == 0 and r.stdout == b"bcli\n", r.stderr
        assert json.loads(daemon.docker("inspect", "-f", "{{.HostConfig.Memory}}", "bcli", check=True).stdout) == 96 * 1024 * 1024
        r = daemon.berth("stats", "--no-stream", "bcli")
        assert r.returncode == 0, r.stderr
        header, row = r.stdout.decode().splitlines()
        assert header.split()[:3] == ["CONTAINER", "ID", "NAME"]
        fields = row.split()
        assert fields[1] == "bcli" and float(fields[2].rstrip("%")) > 10 and fields[5] == "96MiB"
        r = daemon.berth("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "container=bcli",
                         "--format", "{{.Action}}")
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().split("\n")[:3] == ["create", "start", "update"]
        r = daemon.berth("system", "df")
        assert r.returncode == 0 and r.stdout.decode().splitlines()[0].split()[:2] == ["TYPE", "TOTAL"], r.stderr
    finally:
        daemon.docker("rm", "-f", "bcli")
    daemon.berth("create", "--name", "bcli-stopped", "busybox", "true", check=True)
    r = daemon.berth("container", "prune", "-f")
    assert r.returncode == 0 and b"Deleted Containers:" in r.stdout and b"Total reclaimed space:" in r.stdout, r.stderr
    assert b"bcli-stopped" not in daemon.docker("ps", "-a", "--format", "{{.Names}}", check=True).stdout
    r = daemon.berth("image", "prune", "-f")
    assert r.returncode == 0 and b"Total reclaimed space:" in r.stdout, r.stderr


def test_berth_cli_bad_input(daemon):
    for args, message in [(["update", "-m", "lots", "whatever"], b"invalid size: 'lots'"),
                          (["events", "--since", "yesterday-ish"], b"invalid time"),
                          (["volume", "inspect", "no-such-vol"], b"get no-such-vol: no such volume"),
                          (["volume", "create", "--name", "a/b"], b"includes invalid characters"),
                          (["stats", "--no-stream", "no-such-container"], b"No such container"),
                          (["update", "--restart", "sometimes", "whatever"], b"unknown policy 'sometimes'")]:
        r = daemon.berth(*args)
        assert r.returncode != 0 and message in r.stderr, (args, r.stderr)
    assert daemon.docker("volume", "ls", "-q", "--filter", "name=a/b", check=True).stdout == b""
