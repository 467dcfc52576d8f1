"""Restart policies as dockerd applies them, through the docker CLI and docker-py: on-failure
with and without a retry limit, always, unless-stopped, no; docker's back-off (100 ms doubling);
a manual stop or kill is never undone by the policy; `docker start` resets the count; the
policies are applied again when the daemon starts after a kill -9 (containers that died while
it was down included); bad policies refused with docker's words."""
import json
import time

import pytest

from berth_testlib import wait_for

from .conftest import RUNTIMES


def state(daemon, name):
    info = json.loads(daemon.docker("inspect", name, check=True).stdout)[0]
    return info["State"], info["RestartCount"]




@pytest.mark.parametrize("runtime", RUNTIMES)
def test_on_failure_with_a_limit_restarts_that_many_times(daemon, runtime):
    name = f"onfail-{runtime}"
    r = daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "--restart", "on-failure:2", "busybox",
                      "sh", "-c", "echo run; exit 3")
    assert r.returncode == 0, r.stderr
    try:
        assert wait_for(lambda: state(daemon, name)[1] == 2 and state(daemon, name)[0]["Status"] == "exited")
        time.sleep(1.0)
        s, count = state(daemon, name)
        assert (s["Status"], s["ExitCode"], count) == ("exited", 3, 2)
        assert daemon.docker("logs", name, check=True).stdout == b"run\nrun\nrun\n"
        policy = json.loads(daemon.docker("inspect", "-f", "{{json .HostConfig.RestartPolicy}}", name, check=True).stdout)
        assert policy == {"Name": "on-failure", "MaximumRetryCount": 2}
    finally:
        daemon.docker("rm", "-f", name)


def test_on_failure_leaves_a_clean_exit_alone_and_no_never_restarts(daemon):
    daemon.docker("run", "--name", "onfail-ok", "--restart", "on-failure", "busybox", "true", check=True)
    daemon.docker("run", "--name", "policy-no", "--restart", "no", "busybox", "sh", "-c", "exit 1")
    try:
        time.sleep(1.0)
        for name in ["onfail-ok", "policy-no"]:
            s, count = state(daemon, name)
            assert (s["Status"], count) == ("exited", 0), name
    finally:
        daemon.docker("rm", "-f", "onfail-ok", "policy-no")


def test_always_restarts_with_backoff_until_stopped(daemon):
    name = "always-backoff"
    daemon.docker("run", "-d", "--name", name, "--restart", "always", "busybox", "true", check=True)
    try:
        # 100, 200, 400, 800 ms… : about 4-6 restarts in the first 2.5 s, not dozens.
        time.sleep(2.5)
        count = state(daemon, name)[1]
        assert 3 <= count <= 7, count
        s = wait_for(lambda: state(daemon, name)[0]["Restarting"] and state(daemon, name)[0], timeout=10, step=0.02)
        assert s["Status"] == "restarting" and s["Running"] is True
        ps = daemon.docker("ps", "--filter", f"name={name}", "--format", "{{.Status}}", check=True).stdout.decode()
        assert ps.startswith("Restarting (0)") or ps.startswith("Up"), ps
        r = daemon.docker("rm", name)
        assert r.returncode != 0 and (b"cannot remove a restarting container" in r.stderr or b"cannot remove a running container" in r.stderr)
        assert daemon.docker("stop", name).returncode == 0
        s, count = state(daemon, name)
        time.sleep(1.5)
        s2, count2 = state(daemon, name)
        assert s2["Status"] == "exited" and not s2["Restarting"] and count2 == count
        # A start by the user begins the count again.
        daemon.docker("start", name, check=True)
        assert wait_for(lambda: 1 <= state(daemon, name)[1] <= 3, timeout=5)
    finally:
        daemon.docker("rm", "-f", name)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_killed_or_stopped_container_stays_down(daemon, runtime):
    for verb in ["kill", "stop"]:
        name = f"stays-{verb}-{runtime}"
        daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "--restart", "always", "busybox", "sleep", "300", check=True)
        try:
            args = ["-t", "1"] if verb == "stop" else []
            assert daemon.docker(verb, *args, name).returncode == 0
            time.sleep(1.0)
            s, count = state(daemon, name)
            assert (s["Status"], count) == ("exited", 0), (verb, s)
        finally:
            daemon.docker("rm", "-f", name)


def test_a_process_killed_from_outside_is_restarted(daemon):
    name = "outside-kill"
    daemon.docker("run", "-d", "--name", name, "--restart", "unless-stopped", "busybox", "sleep", "300", check=True)
    try:
        pid = state(daemon, name)[0]["Pid"]
        import os
        import signal
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: state(daemon, name)[1] == 1 and state(daemon, name)[0]["Running"] and state(daemon, name)[0]["Pid"] not in (0, pid))
        assert daemon.docker("exec", name, "true").returncode == 0
    finally:
        daemon.docker("rm", "-f", name)


def test_policies_apply_again_when_the_daemon_starts(fresh_daemon):
    d = fresh_daemon
    d.docker("run", "-d", "--name", "u-stopped", "--restart", "unless-stopped", "busybox", "sleep", "300", check=True)
    d.docker("stop", "-t", "1", "u-stopped", check=True)
    d.docker("run", "-d", "--name", "a-stopped", "--restart", "always", "busybox", "sleep", "300", check=True)
    d.docker("stop", "-t", "1", "a-stopped", check=True)
    d.docker("run", "-d", "--name", "dies-while-down", "--restart", "on-failure", "busybox", "sh", "-c", "sleep 1; exit 7", check=True)
    d.docker("run", "-d", "--name", "runs-on", "--restart", "always", "busybox", "sleep", "300", check=True)
    pid = state(d, "runs-on")[0]["Pid"]
    d.kill9()
    time.sleep(1.5)
    d.start()
    try:
        # dockerd's rule: always starts even after a manual stop, unless-stopped does not.
        assert wait_for(lambda: state(d, "a-stopped")[0]["Running"])
        assert wait_for(lambda: state(d, "dies-while-down")[1] >= 1)
        s, _ = state(d, "u-stopped")
        assert s["Status"] == "exited"
        s, count = state(d, "runs-on")
        assert s["Running"] and s["Pid"] == pid and count == 0
    finally:
        d.docker("rm", "-f", "u-stopped", "a-stopped", "dies-while-down", "runs-on")


def test_bad_policies_are_refused(daemon):
    for policy, message in [("sometimes", b"unknown policy"), ("always:3", b"maximum retry count can only be used with 'on-failure'"),
                            ("on-failure:x", b"maximum retry count must be an integer")]:
        r = daemon.docker("create", "--restart", policy, "busybox", "true")
        assert r.returncode != 0 and message in r.stderr, (policy, r.stderr)
    for cli in (daemon.docker, daemon.berth):
        r = cli("run", "--rm", "--restart", "always", "busybox", "true")
        assert r.returncode == 125 and b"conflicting options: cannot specify both --restart and --rm" in r.stderr, r.stderr
    r = daemon.berth("create", "--restart", "sometimes", "busybox", "true")
    assert r.returncode == 125 and b"unknown policy 'sometimes'" in r.stderr, r.stderr
    client = daemon.client()
    import docker
    for policy, message in [({"Name": "on-failure", "MaximumRetryCount": -1}, "cannot be negative"),
                            ({"Name": "always", "MaximumRetryCount": 2}, "can only be used with 'on-failure'"),
                            ({"Name": "bogus"}, "unknown policy 'bogus'")]:
        with pytest.raises(docker.errors.APIError) as err:
            client.containers.create("busybox", "true", restart_policy=policy)
        assert err.value.status_code == 400 and message in str(err.value)
    with pytest.raises(docker.errors.APIError) as err:
        client.api.create_container("busybox", "true", host_config=client.api.create_host_config(auto_remove=True, restart_policy={"Name": "always"}))
    assert err.value.status_code == 400
