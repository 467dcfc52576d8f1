"""Health checks as dockerd runs them: `--health-*` flags and an image's HEALTHCHECK (from
`commit --change`), starting → healthy → unhealthy after the retries, the failing streak and
the last five probes in inspect, `(healthy)` in ps and its `health` filter, the start period,
a timeout, `--no-healthcheck`, health_status events, docker-py's healthcheck argument, and
bad settings refused."""
import json
import time

import pytest

from berth_testlib import wait_for

from .conftest import RUNTIMES


def health(daemon, name):
    return json.loads(daemon.docker("inspect", "-f", "{{json .State.Health}}", name, check=True).stdout)




@pytest.mark.parametrize("runtime", RUNTIMES)
def test_healthy_then_unhealthy(daemon, runtime):
    name = f"health-{runtime}"
    since = time.time() - 1
    r = daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "--health-cmd", "cat /tmp/ok && echo fine",
                      "--health-interval", "200ms", "--health-retries", "2", "--health-timeout", "2s",
                      "busybox", "sh", "-c", "touch /tmp/ok; sleep 300")
    assert r.returncode == 0, r.stderr
    try:
        assert health(daemon, name)["Status"] in ("starting", "healthy")
        h = wait_for(lambda: health(daemon, name)["Status"] == "healthy" and health(daemon, name))
        assert h["FailingStreak"] == 0
        assert h["Log"][-1]["ExitCode"] == 0 and h["Log"][-1]["Output"] == "fine\n"
        assert h["Log"][-1]["Start"] <= h["Log"][-1]["End"]
        ps = daemon.docker("ps", "--filter", f"name={name}", "--format", "{{.Status}}", check=True).stdout.decode()
        assert ps.strip().endswith("(healthy)"), ps
        assert name in daemon.docker("ps", "--filter", "health=healthy", "--format", "{{.Names}}", check=True).stdout.decode()
        daemon.docker("exec", name, "rm", "/tmp/ok", check=True)
        h = wait_for(lambda: health(daemon, name)["Status"] == "unhealthy" and health(daemon, name))
        assert h["FailingStreak"] >= 2
        assert h["Log"][-1]["ExitCode"] == 1 and "No such file" in h["Log"][-1]["Output"]
        assert len(h["Log"]) <= 5
        time.sleep(1.5)
        assert len(health(daemon, name)["Log"]) == 5
        r = daemon.docker("events", "--since", str(since), "--until", str(time.time()), "--filter", f"container={name}",
                          "--filter", "event=health_status", "--format", "{{.Action}}", check=True)
        assert r.stdout.decode().split("\n")[:2] == ["health_status: healthy", "health_status: unhealthy"]
    finally:
        daemon.docker("rm", "-f", name)


def test_image_healthcheck_start_period_timeout_and_opt_out(daemon):
    daemon.docker("create", "--name", "hc-src", "busybox", "true", check=True)
    try:
        daemon.docker("commit", "-c", "HEALTHCHECK --interval=100ms --timeout=300ms --retries=1 CMD sleep 5", "hc-src", "hcimg:1", check=True)
    finally:
        daemon.docker("rm", "hc-src")
    try:
        config = json.loads(daemon.docker("image", "inspect", "-f", "{{json .Config.Healthcheck}}", "hcimg:1", check=True).stdout)
        assert config == {"Test": ["CMD-SHELL", "sleep 5"], "Interval": 100_000_000, "Timeout": 300_000_000, "Retries": 1}
        daemon.docker("run", "-d", "--name", "hc-timeout", "hcimg:1", "sleep", "300", check=True)
        h = wait_for(lambda: health(daemon, "hc-timeout")["Status"] == "unhealthy" and health(daemon, "hc-timeout"))
        assert h["Log"][-1]["ExitCode"] == -1
        assert h["Log"][-1]["Output"] == "Health check exceeded timeout (300ms)"
        # The start period: failures do not count, the container stays "starting".
        daemon.docker("run", "-d", "--name", "hc-start", "--health-cmd", "false", "--health-start-period", "30s",
                      "--health-start-interval", "100ms", "hcimg:1", "sleep", "300", check=True)
        time.sleep(1.5)
        h = health(daemon, "hc-start")
        assert h["Status"] == "starting" and h["FailingStreak"] == 0 and h["Log"]
        daemon.docker("run", "-d", "--name", "hc-none", "--no-healthcheck", "hcimg:1", "sleep", "300", check=True)
        assert daemon.docker("inspect", "-f", "{{json .State.Health}}", "hc-none", check=True).stdout.strip() == b"null"
        assert "hc-none" in daemon.docker("ps", "--filter", "health=none", "--format", "{{.Names}}", check=True).stdout.decode()
    finally:
        daemon.docker("rm", "-f", "hc-timeout", "hc-start", "hc-none")
        daemon.docker("rmi", "hcimg:1")


def test_docker_py_healthcheck_and_bad_settings(daemon):
    client = daemon.client()
    c = client.containers.run("busybox", ["sleep", "300"], detach=True,
                              healthcheck={"test": ["CMD", "true"], "interval": 100_000_000})
    try:
        assert wait_for(lambda: (c.reload() or True) and c.attrs["State"]["Health"]["Status"] == "healthy")
        assert c.health == "healthy"
    finally:
        c.remove(force=True)
    import docker
    for check, message in [({"test": ["CMD", "true"], "interval": 1000}, "Interval in Healthcheck cannot be less than 1ms"),
                           ({"test": ["CMD", "true"], "retries": -1}, "Retries in Healthcheck cannot be negative")]:
        with pytest.raises(docker.errors.APIError) as err:
            client.containers.create("busybox", "true", healthcheck=check)
        assert err.value.status_code == 400 and message in str(err.value)
    r = daemon.docker("run", "--no-healthcheck", "--health-cmd", "true", "busybox", "true")
    assert r.returncode == 125 and b"--no-healthcheck conflicts with --health-* options" in r.stderr
    r = daemon.berth("run", "--no-healthcheck", "--health-cmd", "true", "busybox", "true")
    assert r.returncode == 125 and b"--no-healthcheck conflicts with --health-* options" in r.stderr
    r = daemon.berth("run", "-d", "--name", "berth-hc", "--health-cmd", "true", "--health-interval", "100ms", "busybox", "sleep", "300")
    assert r.returncode == 0, r.stderr
    try:
        assert wait_for(lambda: health(daemon, "berth-hc")["Status"] == "healthy")
    finally:
        daemon.docker("rm", "-f", "berth-hc")
