"""kill -9 of berthd: containers keep running, a restarted daemon finds them, their logs and
their exit codes; a container that ends while the daemon is down reports its real status."""
import json
import os
import signal
import time


def logs_lines(d, cid):
    return d.docker("logs", cid).stdout.decode().split()


def test_containers_survive_daemon_kill_and_are_found_again(fresh_daemon):
    d = fresh_daemon
    cid = d.docker("run", "-d", "busybox", "sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done",
                   check=True).stdout.decode().strip()
    time.sleep(0.5)
    pid = json.loads(d.docker("inspect", cid).stdout)[0]["State"]["Pid"]
    d.kill9()
    time.sleep(0.5)
    os.kill(pid, 0)  # still running without the daemon
    d.start()
    state = json.loads(d.docker("inspect", cid).stdout)[0]["State"]
    assert state["Running"] is True and state["Pid"] == pid
    first = len(logs_lines(d, cid))
    time.sleep(0.5)
    assert len(logs_lines(d, cid)) > first  # output kept flowing into the log
    r = d.docker("exec", cid, "echo", "still here")
    assert r.stdout == b"still here\n"
    assert d.docker("stop", "-t", "1", cid).returncode == 0
    assert json.loads(d.docker("inspect", cid).stdout)[0]["State"]["Status"] == "exited"


def test_exit_while_daemon_is_down_is_reported(fresh_daemon):
    d = fresh_daemon
    cid = d.docker("run", "-d", "busybox", "sh", "-c", "sleep 1; exit 9", check=True).stdout.decode().strip()
    d.kill9()
    time.sleep(2)
    d.start()
    state = json.loads(d.docker("inspect", cid).stdout)[0]["State"]
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 9
    assert d.docker("wait", cid).stdout.strip() == b"9"


def test_killed_container_while_daemon_is_down(fresh_daemon):
    d = fresh_daemon
    cid = d.docker("run", "-d", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    pid = json.loads(d.docker("inspect", cid).stdout)[0]["State"]["Pid"]
    d.kill9()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    d.start()
    state = json.loads(d.docker("inspect", cid).stdout)[0]["State"]
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 137


def test_monitor_death_is_reported_truthfully(fresh_daemon):
    d = fresh_daemon
    cid = d.docker("run", "-d", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    container_pid = json.loads(d.docker("inspect", cid).stdout)[0]["State"]["Pid"]
    monitor_pid = int(open(os.path.join(d.exec_root, "m", cid[:16], "monitor.pid")).read().split()[0])
    os.kill(monitor_pid, signal.SIGKILL)
    time.sleep(0.5)
    state = json.loads(d.docker("inspect", cid).stdout)[0]["State"]
    # The container still runs (it was not the monitor's to take down); the engine says so and
    # says that its output is no longer collected.
    assert state["Running"] is True
    assert "monitor died" in state["Error"]
    os.kill(container_pid, signal.SIGKILL)
    for _ in range(50):
        state = json.loads(d.docker("inspect", cid).stdout)[0]["State"]
        if state["Status"] == "exited":
            break
        time.sleep(0.1)
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 255
    assert "exit status unknown" in state["Error"]


def kill_daemon_during_upload(d, command, data):
    """Streams part of `data` into `docker <command>`, kills the daemon mid-upload, restarts it."""
    import subprocess
    env = dict(os.environ, DOCKER_HOST=d.host)
    p = subprocess.Popen(["docker", *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    p.stdin.write(data)
    p.stdin.flush()
    time.sleep(0.2)
    d.kill9()
    p.kill()
    p.wait()
    d.start()


def assert_whole_or_absent(d, image):
    """After a crash an image is either usable or not there at all, and the store still works."""
    if d.docker("image", "inspect", image).returncode == 0:
        assert d.docker("run", "--rm", image, "true").returncode == 0
    assert d.docker("run", "--rm", "busybox", "echo", "ok").stdout == b"ok\n"
    assert not os.listdir(os.path.join(d.root, "tmp"))


def test_import_is_atomic_under_daemon_kill(fresh_daemon, busybox_tar):
    """kill -9 while an import is in flight: afterwards the image is either fully there or
    absent, and the store is usable."""
    data = open(busybox_tar, "rb").read()
    kill_daemon_during_upload(fresh_daemon, ["import", "-", "midflight:1"], data[: len(data) // 2])
    assert_whole_or_absent(fresh_daemon, "midflight:1")


def test_load_is_atomic_under_daemon_kill(fresh_daemon, tmp_path):
    """kill -9 while a `load` is being received: afterwards the image is fully there or absent."""
    d = fresh_daemon
    d.docker("tag", "busybox", "loadkill:1", check=True)
    archive = tmp_path / "saved.tar"
    d.docker("save", "-o", str(archive), "loadkill:1", check=True)
    d.docker("rmi", "loadkill:1", check=True)
    data = archive.read_bytes()
    kill_daemon_during_upload(d, ["load"], data[: len(data) * 3 // 4])
    assert_whole_or_absent(d, "loadkill:1")


def test_commit_interrupted_by_daemon_kill_leaves_no_half_image(fresh_daemon):
    d = fresh_daemon
    import subprocess
    d.docker("run", "--name", "big", "busybox", "sh", "-c", "dd if=/dev/urandom of=/big bs=1M count=64 2>/dev/null", check=True)
    env = dict(os.environ, DOCKER_HOST=d.host)
    p = subprocess.Popen(["docker", "commit", "big", "halfway:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(0.3)
    d.kill9()
    p.wait()
    d.start()
    r = d.docker("image", "inspect", "halfway:1")
    if r.returncode == 0:
        assert d.docker("run", "--rm", "halfway:1", "ls", "/big").returncode == 0
    else:
        assert b"No such image" in r.stderr
    assert not os.listdir(os.path.join(d.root, "tmp"))
    assert d.docker("commit", "big", "complete:1").returncode == 0
    assert d.docker("run", "--rm", "complete:1", "ls", "/big").stdout == b"/big\n"
