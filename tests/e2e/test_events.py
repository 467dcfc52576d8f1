"""`docker events` against berthd: container, exec, image and volume actions with docker's
attributes, `--since`/`--until` (past events, then the stream), filters by type, event,
container, image, volume and label, docker's JSON shape (docker-py reads it), and bad
parameters refused."""
import json
import subprocess
import time

import pytest


def events(daemon, since, *args):
    r = daemon.docker("events", "--since", str(since), "--until", str(time.time()), "--format", "{{json .}}", *args, timeout=30)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def actions(items):
    return [e["Action"] for e in items]


def test_container_life_cycle_events(daemon):
    since = time.time() - 1
    daemon.docker("run", "-d", "--name", "ev-c", "--label", "team=ev", "busybox", "sleep", "300", check=True)
    daemon.docker("exec", "ev-c", "sh", "-c", "exit 4")
    daemon.docker("pause", "ev-c", check=True)
    daemon.docker("unpause", "ev-c", check=True)
    daemon.docker("rename", "ev-c", "ev-c2", check=True)
    daemon.docker("kill", "-s", "USR1", "ev-c2")
    daemon.docker("stop", "-t", "1", "ev-c2", check=True)
    daemon.docker("rm", "ev-c2", check=True)
    items = events(daemon, since, "--filter", "label=team=ev")
    seen = actions(items)
    expected = ["create", "start", "exec_create: sh -c exit 4", "exec_start: sh -c exit 4", "exec_die", "pause", "unpause",
                "rename", "kill", "kill", "kill", "die", "stop", "destroy"]
    assert [a for a in seen if a in expected] == expected, seen
    by_action = {e["Action"]: e for e in items}
    create = by_action["create"]
    assert create["Type"] == "container" and create["status"] == "create" and create["from"] == "busybox"
    assert create["Actor"]["Attributes"] == {"image": "busybox", "name": "ev-c", "team": "ev"}
    assert create["scope"] == "local" and create["timeNano"] // 1_000_000_000 == create["time"]
    assert by_action["exec_die"]["Actor"]["Attributes"]["exitCode"] == "4"
    assert by_action["rename"]["Actor"]["Attributes"]["oldName"] == "/ev-c"
    kills = [e["Actor"]["Attributes"]["signal"] for e in items if e["Action"] == "kill"]
    # sleep as PID 1 ignores USR1 and TERM: stop ends with KILL after its timeout.
    assert kills == ["10", "15", "9"]
    assert by_action["die"]["Actor"]["Attributes"]["exitCode"] == "137"
    # Filters: type, event, container by name.
    only_die = events(daemon, since, "--filter", "event=die", "--filter", "container=ev-c2")
    assert actions(only_die) == ["die"]
    assert all(e["Type"] == "container" for e in events(daemon, since, "--filter", "type=container"))


def test_image_and_volume_events(daemon):
    since = time.time() - 1
    daemon.docker("tag", "busybox", "ev-img:1", check=True)
    daemon.docker("rmi", "ev-img:1", check=True)
    daemon.docker("volume", "create", "ev-vol", check=True)
    daemon.docker("run", "--rm", "-v", "ev-vol:/v", "busybox", "true", check=True)
    daemon.docker("volume", "rm", "ev-vol", check=True)
    image_events = events(daemon, since, "--filter", "type=image")
    assert [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in image_events] == [("tag", "ev-img:1"), ("untag", "ev-img:1")]
    volume_events = events(daemon, since, "--filter", "volume=ev-vol")
    assert actions(volume_events) == ["create", "mount", "unmount", "destroy"]
    assert volume_events[1]["Actor"]["Attributes"]["driver"] == "local"
    assert "status" not in volume_events[0]


def test_the_stream_delivers_new_events_as_they_happen(daemon):
    e = dict(__import__("os").environ, DOCKER_HOST=daemon.host)
    watcher = subprocess.Popen(["docker", "events", "--filter", "type=volume", "--format", "{{.Action}} {{.Actor.ID}}"],
                               stdout=subprocess.PIPE, env=e)
    try:
        time.sleep(0.5)
        daemon.docker("volume", "create", "ev-stream", check=True)
        line = watcher.stdout.readline()
        assert line == b"create ev-stream\n"
    finally:
        watcher.kill()
        watcher.wait()
        daemon.docker("volume", "rm", "ev-stream")


def test_docker_py_events_and_bad_parameters(daemon):
    client = daemon.client()
    since = time.time() - 1
    client.volumes.create("ev-py").remove()
    got = list(client.events(since=since, until=time.time() + 0.5, decode=True, filters={"volume": "ev-py"}))
    assert [g["Action"] for g in got] == ["create", "destroy"]
    assert got[0]["Actor"]["ID"] == "ev-py"
    import docker
    for params in [{"since": "yesterday"}, {"until": "1.x"}, {"filters": json.dumps({"colour": ["red"]})},
                   {"since": "200", "until": "100"}]:
        with pytest.raises(docker.errors.APIError) as err:
            client.api._result(client.api._get(client.api._url("/events"), params=params))
        assert err.value.status_code == 400, params
