"""Container life cycle through the docker CLI: detached runs, logs, stop, kill, wait, rm,
exec, top, diff, commit, inspect, ps."""
import json
import time

import pytest

from .conftest import RUNTIMES


def detached(daemon, *args, runtime="berth"):
    r = daemon.docker("run", "-d", "--runtime", runtime, *args, check=True)
    return r.stdout.decode().strip()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_detached_container_logs_and_stop(daemon, runtime):
    cid = detached(daemon, "busybox", "sh", "-c", "trap 'exit 7' TERM; echo started; while true; do sleep 0.1; done", runtime=runtime)
    assert len(cid) == 64
    for _ in range(50):
        if b"started" in daemon.docker("logs", cid).stdout:
            break
        time.sleep(0.1)
    assert daemon.docker("logs", cid).stdout == b"started\n"
    ps = daemon.docker("ps", "--no-trunc", "--format", "{{.ID}} {{.Status}}").stdout.decode()
    assert cid in ps and "Up" in ps
    assert daemon.docker("stop", "-t", "5", cid).returncode == 0
    state = json.loads(daemon.docker("inspect", cid).stdout)[0]["State"]
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 7
    assert state["FinishedAt"] != "0001-01-01T00:00:00Z"
    daemon.docker("rm", cid, check=True)


def test_stop_escalates_to_kill_after_timeout(daemon):
    cid = detached(daemon, "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done")
    time.sleep(0.3)
    started = time.time()
    assert daemon.docker("stop", "-t", "1", cid).returncode == 0
    assert time.time() - started >= 1
    assert json.loads(daemon.docker("inspect", cid).stdout)[0]["State"]["ExitCode"] == 137
    daemon.docker("rm", cid, check=True)


def test_kill_with_signal_and_wait(daemon):
    cid = detached(daemon, "busybox", "sh", "-c", "trap 'exit 42' HUP; while true; do sleep 0.1; done")
    time.sleep(0.3)
    assert daemon.docker("kill", "-s", "HUP", cid).returncode == 0
    r = daemon.docker("wait", cid)
    assert r.stdout.strip() == b"42"
    r = daemon.docker("kill", cid)
    assert r.returncode != 0 and b"is not running" in r.stderr
    daemon.docker("rm", cid, check=True)


def test_rm_of_running_container_needs_force(daemon):
    cid = detached(daemon, "busybox", "sleep", "60")
    r = daemon.docker("rm", cid)
    assert r.returncode != 0
    assert b"cannot remove a running container" in r.stderr
    assert daemon.docker("rm", "-f", cid).returncode == 0
    assert daemon.docker("inspect", cid).returncode != 0


def test_names_conflict_and_resolve(daemon):
    cid = daemon.docker("create", "--name", "named-one", "busybox", "true", check=True).stdout.decode().strip()
    r = daemon.docker("create", "--name", "named-one", "busybox", "true")
    assert r.returncode != 0 and b"already in use" in r.stderr
    assert json.loads(daemon.docker("inspect", "named-one").stdout)[0]["Id"] == cid
    assert daemon.docker("start", "-a", "named-one").returncode == 0
    daemon.docker("rm", "named-one", check=True)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exec_runs_in_the_container(daemon, runtime):
    cid = detached(daemon, "busybox", "sh", "-c", "echo inside > /tmp/marker; sleep 60", runtime=runtime)
    time.sleep(0.3)
    r = daemon.docker("exec", cid, "cat", "/tmp/marker")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"inside\n"
    r = daemon.docker("exec", "-e", "X=1", "-w", "/tmp", "-u", "nobody", cid, "sh", "-c", 'echo "$X $(pwd) $(id -u)"; exit 5')
    assert r.returncode == 5
    assert r.stdout == b"1 /tmp 65534\n"
    r = daemon.docker("exec", "-i", cid, "cat", input=b"piped\n")
    assert r.stdout == b"piped\n"
    daemon.docker("rm", "-f", cid, check=True)


def test_exec_on_stopped_container_is_refused(daemon):
    cid = daemon.docker("create", "busybox", "true", check=True).stdout.decode().strip()
    r = daemon.docker("exec", cid, "true")
    assert r.returncode != 0 and b"is not running" in r.stderr
    daemon.docker("rm", cid, check=True)


def test_top_lists_container_processes(daemon):
    cid = detached(daemon, "busybox", "sleep", "60")
    time.sleep(0.3)
    r = daemon.docker("top", cid)
    assert r.returncode == 0, r.stderr
    assert b"sleep 60" in r.stdout
    assert r.stdout.count(b"\n") == 2
    daemon.docker("rm", "-f", cid, check=True)


def test_diff_and_commit(daemon):
    cid = daemon.docker("run", "--name", "to-commit", "busybox", "sh", "-c",
                        "echo new > /newfile; rm /etc/group; echo x >> /etc/passwd").stdout
    r = daemon.docker("diff", "to-commit")
    assert r.returncode == 0, r.stderr
    lines = set(r.stdout.decode().splitlines())
    assert "A /newfile" in lines
    assert "D /etc/group" in lines
    assert "C /etc/passwd" in lines
    assert "C /etc" in lines
    r = daemon.docker("commit", "-c", "CMD [\"cat\", \"/newfile\"]", "-m", "a comment", "to-commit", "committed:1")
    assert r.returncode == 0, r.stderr
    r = daemon.docker("run", "--rm", "committed:1")
    assert r.stdout == b"new\n"
    r = daemon.docker("run", "--rm", "committed:1", "ls", "/etc/group")
    assert r.returncode != 0
    history = daemon.docker("history", "--no-trunc", "committed:1").stdout.decode()
    assert "a comment" in history
    daemon.docker("rm", "to-commit", check=True)
    daemon.docker("rmi", "committed:1", check=True)


def test_ps_shows_exited_with_status(daemon):
    daemon.docker("run", "--name", "exits-3", "busybox", "sh", "-c", "exit 3")
    r = daemon.docker("ps", "-a", "--filter", "name=exits-3", "--format", "{{.Names}} {{.Status}}")
    assert "Exited (3)" in daemon.docker("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout.decode()
    ids = daemon.docker("ps", "-q").stdout.decode()
    full = json.loads(daemon.docker("inspect", "exits-3").stdout)[0]["Id"]
    assert full[:12] not in ids
    daemon.docker("rm", "exits-3", check=True)


def test_restart_runs_the_command_again(daemon):
    cid = detached(daemon, "busybox", "sh", "-c", "echo run; sleep 60")
    time.sleep(0.3)
    assert daemon.docker("restart", "-t", "0", cid).returncode == 0
    time.sleep(0.5)
    assert daemon.docker("logs", cid).stdout == b"run\nrun\n"
    assert json.loads(daemon.docker("inspect", cid).stdout)[0]["State"]["Running"] is True
    daemon.docker("rm", "-f", cid, check=True)


def test_logs_tail_and_timestamps(daemon):
    daemon.docker("run", "--name", "chatty", "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2")
    assert daemon.docker("logs", "--tail", "2", "chatty").stdout == b"line5\n"
    r = daemon.docker("logs", "-t", "chatty")
    first = r.stdout.decode().splitlines()[0]
    stamp, text = first.split(" ", 1)
    assert text == "line1"
    assert stamp.endswith("Z") and "T" in stamp
    assert r.stderr == b"oops\n" or "oops" in r.stderr.decode()
    daemon.docker("rm", "chatty", check=True)


def test_logs_follow_ends_when_container_exits(daemon):
    cid = detached(daemon, "busybox", "sh", "-c", "for i in 1 2 3; do echo tick$i; sleep 0.2; done")
    r = daemon.docker("logs", "-f", cid, timeout=20)
    assert r.stdout == b"tick1\ntick2\ntick3\n"
    daemon.docker("rm", cid, check=True)


def test_auto_remove(daemon):
    daemon.docker("run", "--rm", "--name", "gone-soon", "busybox", "true", check=True)
    assert daemon.docker("inspect", "gone-soon").returncode != 0


def test_ps_filters(daemon):
    daemon.docker("create", "--name", "filter-created", "--label", "team=blue", "busybox", "true", check=True)
    daemon.docker("run", "--name", "filter-exited", "busybox", "true", check=True)
    try:
        names = lambda *f: set(daemon.docker("ps", "-a", "--format", "{{.Names}}", *f, check=True).stdout.decode().split())
        assert names("--filter", "status=created") >= {"filter-created"}
        assert "filter-exited" not in names("--filter", "status=created")
        assert names("--filter", "name=filter-") == {"filter-created", "filter-exited"}
        assert names("--filter", "label=team=blue") == {"filter-created"}
        r = daemon.docker("ps", "--filter", "bogus=1")
        assert r.returncode != 0 and b"invalid filter" in r.stderr
    finally:
        daemon.docker("rm", "filter-created", "filter-exited")


def test_images_reference_filter(daemon):
    daemon.docker("tag", "busybox", "filtered/one:1", check=True)
    try:
        r = daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=filtered/*", check=True)
        assert r.stdout.decode().split() == ["filtered/one:1"]
    finally:
        daemon.docker("rmi", "filtered/one:1")
