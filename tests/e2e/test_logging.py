"""Log drivers as docker's: json-file rotated by `--log-opt max-size/max-file` under a
container writing as fast as it can (the files never grow past the limit, `docker logs`
reads across the rotated files, `-f` follows through rotations), `local` (rotated by
default), `none` (nothing kept; `logs` refused as docker refuses it), unknown drivers and
options refused (400), and `logs --since/--until`."""
import glob
import json
import os
import time

import docker
import pytest


def log_files(daemon, name):
    cid = daemon.docker("inspect", "-f", "{{.Id}}", name, check=True).stdout.decode().strip()
    return sorted(glob.glob(os.path.join(daemon.root, "containers", cid, "container-json.log*")))


@pytest.mark.parametrize("runtime", ["berth", "runc"])
def test_json_file_rotation_under_a_fast_writer(daemon, runtime):
    name = f"rotate-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "--log-opt", "max-size=64k", "--log-opt", "max-file=3",
                  "busybox", "sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done; echo done", check=True)
    try:
        assert json.loads(daemon.docker("wait", name, check=True).stdout) == 0
        files = log_files(daemon, name)
        assert len(files) == 3, files
        for f in files:
            assert os.path.getsize(f) <= 64 * 1024, (f, os.path.getsize(f))
        out = daemon.docker("logs", name, check=True).stdout.decode().splitlines()
        assert out[-1] == "done"
        numbers = [int(line.split("-")[1]) for line in out[:-1]]
        assert numbers == list(range(numbers[0], 20000)), "the logs read back are not the newest lines in order"
        assert 1000 < len(numbers) < 20000
        config = json.loads(daemon.docker("inspect", "-f", "{{json .HostConfig.LogConfig}}", name, check=True).stdout)
        assert config == {"Type": "json-file", "Config": {"max-size": "64k", "max-file": "3"}}
    finally:
        daemon.docker("rm", "-f", name)


def test_rotation_splits_a_burst_larger_than_the_limit(daemon):
    # Each empty line becomes a ~70-byte entry: one read of a few KiB of newlines makes
    # entries several times max-size, which must still be spread over files within the limit.
    name = "rotate-burst"
    daemon.docker("run", "-d", "--name", name, "--log-opt", "max-size=16k", "--log-opt", "max-file=2",
                  "busybox", "sh", "-c", "head -c 60000 /dev/zero | tr '\\0' '\\n'; echo done", check=True)
    try:
        assert json.loads(daemon.docker("wait", name, check=True).stdout) == 0
        files = log_files(daemon, name)
        assert len(files) == 2, files
        for f in files:
            assert 0 < os.path.getsize(f) <= 16 * 1024, (f, os.path.getsize(f))
        assert daemon.docker("logs", name, check=True).stdout.decode().splitlines()[-1] == "done"
    finally:
        daemon.docker("rm", "-f", name)

def test_follow_crosses_rotations_and_local_driver(daemon):
    # At a line every 4 ms a file of 8k fills in about half a second: `-f` sees every rotation
    # and must deliver every line once, in order, from the first one to the last.
    daemon.docker("run", "-d", "--name", "follow-rot", "--log-opt", "max-size=8k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
                  "sleep 1; i=0; while [ $i -lt 600 ]; do echo l$i; usleep 4000; i=$((i+1)); done", check=True)
    try:
        r = daemon.docker("logs", "-f", "follow-rot", timeout=60)
        assert r.returncode == 0, r.stderr
        numbers = [int(x[1:]) for x in r.stdout.decode().split()]
        assert numbers == list(range(600)), numbers[:5]
    finally:
        daemon.docker("rm", "-f", "follow-rot")
    # As fast as the shell can write, whole files are rotated away before any follower looks
    # (docker's too); what arrives is still in order, never twice, and ends with the last line.
    daemon.docker("run", "-d", "--name", "follow-burst", "--log-opt", "max-size=8k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
                  "sleep 1; i=0; while [ $i -lt 3000 ]; do echo l$i; i=$((i+1)); done", check=True)
    try:
        r = daemon.docker("logs", "-f", "follow-burst", timeout=60)
        numbers = [int(x[1:]) for x in r.stdout.decode().split()]
        assert numbers[-1] == 2999
        assert all(a < b for a, b in zip(numbers, numbers[1:])), numbers
    finally:
        daemon.docker("rm", "-f", "follow-burst")
    daemon.docker("run", "--name", "local-log", "--log-driver", "local", "busybox", "echo", "via local", check=True)
    try:
        assert daemon.docker("logs", "local-log", check=True).stdout == b"via local\n"
    finally:
        daemon.docker("rm", "-f", "local-log")


def test_none_driver_and_bad_settings(daemon):
    r = daemon.docker("run", "--name", "no-log", "--log-driver", "none", "busybox", "echo", "unseen")
    try:
        assert r.returncode == 0 and r.stdout == b"unseen\n", r.stderr
        r = daemon.docker("logs", "no-log")
        assert r.returncode != 0 and b"configured logging driver does not support reading" in r.stderr
        assert log_files(daemon, "no-log") == []
    finally:
        daemon.docker("rm", "-f", "no-log")
    client = daemon.client()
    for log_config, message in [({"Type": "splunk-ish"}, "logger: no log driver named 'splunk-ish' is registered"),
                                ({"Type": "json-file", "Config": {"max-size": "lots"}}, "invalid max-size"),
                                ({"Type": "json-file", "Config": {"colour": "red"}}, "unknown log opt 'colour'"),
                                ({"Type": "json-file", "Config": {"max-file": "3"}}, "max-file can only be used with max-size")]:
        res = client.api._post_json(client.api._url("/containers/create"),
                                    data={"Image": "busybox", "Cmd": ["true"], "HostConfig": {"LogConfig": log_config}})
        assert res.status_code == 400 and message in res.json()["message"], (log_config, res.text)
    r = daemon.docker("run", "--rm", "--log-driver", "splunk-ish", "busybox", "true")
    assert r.returncode == 125 and b"no log driver named 'splunk-ish'" in r.stderr


def test_logs_since_and_until(daemon):
    daemon.docker("run", "-d", "--name", "since-log", "busybox", "sh", "-c", "echo early; sleep 2; echo late; sleep 300", check=True)
    try:
        time.sleep(1)
        middle = time.time()
        time.sleep(1.5)
        r = daemon.docker("logs", "--since", f"{middle:.3f}", "since-log")
        assert r.stdout == b"late\n", r.stdout
        r = daemon.docker("logs", "--until", f"{middle:.3f}", "since-log")
        assert r.stdout == b"early\n", r.stdout
        r = daemon.berth("logs", "--since", "1s", "since-log")
        assert r.returncode == 0 and b"early" not in r.stdout, r.stderr
        r = daemon.docker("logs", "--since", "not-a-time", "since-log")
        assert r.returncode != 0
    finally:
        daemon.docker("rm", "-f", "since-log")
