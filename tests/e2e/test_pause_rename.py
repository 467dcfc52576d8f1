"""docker pause/unpause and rename against berthd, as dockerd answers them: a paused container
is frozen (its processes make no progress), shows as `paused` in inspect and ps (and their
filters), refuses exec, still stops, is removed by rm -f, stays paused across a daemon kill,
and stays paused through commit. Rename works on running containers and refuses names in use,
the same name, empty and invalid names. Pause runs on Berth's runtime and on runc."""
import json
import time

import docker
import pytest

from .conftest import RUNTIMES

TICKER = ["sh", "-c", "while true; do echo tick; sleep 0.05; done"]


def inspect_state(daemon, name):
    return json.loads(daemon.docker("inspect", name, check=True).stdout)[0]["State"]


def log_lines(daemon, name):
    return daemon.docker("logs", name, check=True).stdout.count(b"tick")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_paused_container_is_frozen_and_shown_paused(daemon, runtime):
    name = f"pause-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "busybox", *TICKER, check=True)
    try:
        r = daemon.docker("pause", name)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == name
        state = inspect_state(daemon, name)
        assert (state["Status"], state["Running"], state["Paused"]) == ("paused", True, True)
        before = log_lines(daemon, name)
        time.sleep(0.5)
        assert log_lines(daemon, name) == before
        ps = daemon.docker("ps", "--filter", f"name={name}", "--format", "{{.Status}}", check=True).stdout.decode()
        assert ps.strip().endswith("(Paused)")
        assert name in daemon.docker("ps", "--filter", "status=paused", "--format", "{{.Names}}", check=True).stdout.decode()
        assert name not in daemon.docker("ps", "--filter", "status=running", "--format", "{{.Names}}", check=True).stdout.decode()
        r = daemon.docker("exec", name, "true")
        assert r.returncode != 0
        assert b"is paused, unpause the container before exec" in r.stderr
        r = daemon.docker("pause", name)
        assert r.returncode != 0 and b"is already paused" in r.stderr
        assert daemon.docker("unpause", name).returncode == 0
        state = inspect_state(daemon, name)
        assert (state["Status"], state["Paused"]) == ("running", False)
        time.sleep(0.5)
        assert log_lines(daemon, name) > before
        r = daemon.docker("unpause", name)
        assert r.returncode != 0 and b"is not paused" in r.stderr
    finally:
        daemon.docker("rm", "-f", name)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_paused_container_still_stops_and_is_removed(daemon, runtime):
    name = f"pause-stop-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "busybox", "sleep", "60", check=True)
    try:
        assert daemon.docker("pause", name).returncode == 0
        r = daemon.docker("stop", "-t", "1", name)
        assert r.returncode == 0, r.stderr
        state = inspect_state(daemon, name)
        assert (state["Status"], state["Running"], state["Paused"]) == ("exited", False, False)
        r = daemon.docker("pause", name)
        assert r.returncode != 0 and b"is not running" in r.stderr
        assert daemon.docker("start", name).returncode == 0
        assert daemon.docker("pause", name).returncode == 0
        assert daemon.docker("rm", "-f", name).returncode == 0
        assert daemon.docker("inspect", name).returncode != 0
    finally:
        daemon.docker("rm", "-f", name)


def test_commit_leaves_a_paused_container_paused(daemon):
    name = "pause-commit"
    daemon.docker("run", "-d", "--name", name, "busybox", *TICKER, check=True)
    try:
        assert daemon.docker("pause", name).returncode == 0
        r = daemon.docker("commit", name, "pause-committed:1")
        assert r.returncode == 0, r.stderr
        assert inspect_state(daemon, name)["Status"] == "paused"
        before = log_lines(daemon, name)
        time.sleep(0.3)
        assert log_lines(daemon, name) == before
    finally:
        daemon.docker("rm", "-f", name)
        daemon.docker("rmi", "pause-committed:1")


def test_paused_survives_a_daemon_kill(fresh_daemon):
    d = fresh_daemon
    d.docker("run", "-d", "--name", "frozen", "busybox", *TICKER, check=True)
    assert d.docker("pause", "frozen").returncode == 0
    d.kill9()
    d.start()
    state = inspect_state(d, "frozen")
    assert (state["Status"], state["Paused"]) == ("paused", True)
    assert d.docker("unpause", "frozen").returncode == 0
    before = log_lines(d, "frozen")
    time.sleep(0.5)
    assert log_lines(d, "frozen") > before


def test_rename(daemon):
    cid = daemon.docker("run", "-d", "--name", "rename-a", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    daemon.docker("create", "--name", "rename-taken", "busybox", "true", check=True)
    try:
        r = daemon.docker("rename", "rename-a", "rename-b")
        assert r.returncode == 0, r.stderr
        assert json.loads(daemon.docker("inspect", cid, check=True).stdout)[0]["Name"] == "/rename-b"
        assert daemon.docker("inspect", "rename-a").returncode != 0
        assert "rename-b" in daemon.docker("ps", "--format", "{{.Names}}", check=True).stdout.decode().split()
        # The hostname stays what it was (docker does not change it either).
        assert daemon.docker("exec", "rename-b", "hostname", check=True).stdout.decode().strip() == cid[:12]
        r = daemon.docker("rename", "rename-b", "rename-taken")
        assert r.returncode != 0 and b"is already in use" in r.stderr
        r = daemon.docker("rename", "rename-b", "rename-b")
        assert r.returncode != 0 and b"same name" in r.stderr
        r = daemon.docker("rename", "rename-b", "bad/name")
        assert r.returncode != 0 and b"Invalid container name" in r.stderr
        r = daemon.docker("rename", "no-such-container-x", "whatever")
        assert r.returncode != 0 and b"No such container" in r.stderr
        client = docker.DockerClient(base_url=daemon.host)
        client.containers.get(cid).rename("rename-c")
        assert client.containers.get("rename-c").id == cid
        with pytest.raises(docker.errors.APIError) as failure:
            client.api.rename(cid, "")
        assert failure.value.response.status_code == 400
    finally:
        daemon.docker("rm", "-f", cid, "rename-taken")


def test_pause_and_unpause_through_docker_py(daemon):
    client = docker.DockerClient(base_url=daemon.host)
    container = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        container.pause()
        container.reload()
        assert container.status == "paused"
        with pytest.raises(docker.errors.APIError) as failure:
            container.pause()
        assert failure.value.response.status_code == 409
        container.unpause()
        container.reload()
        assert container.status == "running"
    finally:
        container.remove(force=True)


def test_berth_cli_pause_unpause_rename(daemon):
    daemon.docker("run", "-d", "--name", "berth-cli-pause", "busybox", "sleep", "60", check=True)
    try:
        r = daemon.berth("pause", "berth-cli-pause")
        assert r.returncode == 0 and r.stdout.decode().strip() == "berth-cli-pause", r.stderr
        assert inspect_state(daemon, "berth-cli-pause")["Status"] == "paused"
        r = daemon.berth("pause", "berth-cli-pause")
        assert r.returncode == 1 and b"is already paused" in r.stderr
        assert daemon.berth("unpause", "berth-cli-pause").returncode == 0
        assert daemon.berth("rename", "berth-cli-pause", "berth-cli-renamed").returncode == 0
        assert inspect_state(daemon, "berth-cli-renamed")["Status"] == "running"
    finally:
        daemon.docker("rm", "-f", "berth-cli-pause", "berth-cli-renamed")
