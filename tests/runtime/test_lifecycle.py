"""create/start/state/kill/delete, and exec into a running container."""
import json
import os
import time


def started(runtime, args):
    container_id, bundle = runtime.new_bundle(args)
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    return container_id, bundle, out, err


def test_create_start_state_kill_delete(runtime):
    container_id, bundle = runtime.new_bundle(["sh", "-c", "echo started; exec sleep 60"])
    pid_file = os.path.join(bundle.path, "init.pid")
    result, out, err = runtime.create(bundle, container_id, "--pid-file", pid_file)
    assert result.returncode == 0, open(err).read()

    state = runtime.state(container_id)
    assert state["status"] == "created"
    assert state["id"] == container_id
    assert state["pid"] == int(open(pid_file).read())
    assert os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path)
    assert open(out).read() == ""  # nothing runs before start

    assert runtime.cmd("start", container_id).returncode == 0
    runtime.wait_status(container_id, "running")
    deadline = time.time() + 5
    while open(out).read() != "started\n" and time.time() < deadline:
        time.sleep(0.02)
    assert open(out).read() == "started\n"

    again = runtime.cmd("start", container_id)
    assert again.returncode != 0

    refused = runtime.cmd("delete", container_id)
    assert refused.returncode != 0  # running, no --force

    assert runtime.cmd("kill", container_id, "KILL").returncode == 0
    runtime.wait_status(container_id, "stopped")
    assert runtime.cmd("kill", container_id, "KILL").returncode != 0

    assert runtime.cmd("delete", container_id).returncode == 0
    assert runtime.cmd("state", container_id).returncode != 0
    assert not os.path.exists(os.path.join(runtime.root, container_id))


def test_kill_signal_names_and_numbers(runtime):
    script = "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 0' TERM; echo ready; while true; do sleep 0.05; done"
    container_id, bundle, out, err = started(runtime, ["sh", "-c", script])
    assert runtime.cmd("start", container_id).returncode == 0
    deadline = time.time() + 5
    while "ready" not in open(out).read() and time.time() < deadline:
        time.sleep(0.02)
    assert runtime.cmd("kill", container_id, "SIGUSR1").returncode == 0
    deadline = time.time() + 5
    while "got-usr1" not in open(out).read() and time.time() < deadline:
        time.sleep(0.02)
    assert runtime.cmd("kill", container_id, "15").returncode == 0
    runtime.wait_status(container_id, "stopped")
    assert open(out).read() == "ready\ngot-usr1\ngot-term\n"
    assert runtime.cmd("kill", container_id, "NOSUCHSIG").returncode != 0


def test_delete_force_kills_running_container(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    assert runtime.cmd("start", container_id).returncode == 0
    pid = runtime.state(container_id)["pid"]
    assert runtime.cmd("delete", "--force", container_id).returncode == 0
    assert runtime.cmd("state", container_id).returncode != 0
    deadline = time.time() + 5
    while os.path.exists("/proc/%d" % pid) and time.time() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.02)


def test_delete_created_container(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    assert runtime.cmd("delete", container_id).returncode == 0
    assert runtime.cmd("state", container_id).returncode != 0


def test_duplicate_id_is_refused(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    again = runtime.cmd("create", "--bundle", bundle.path, container_id)
    assert again.returncode != 0
    assert runtime.state(container_id)["status"] == "created"


def test_run_detached(runtime):
    container_id, bundle = runtime.new_bundle(["sleep", "60"])
    bundle.write()
    runtime.created.append(container_id)
    with open(os.path.join(bundle.path, "out"), "w") as out:
        result = runtime.cmd("run", "-d", "--bundle", bundle.path, container_id, stdout=out, stderr=out, capture_output=False)
    assert result.returncode == 0
    assert runtime.state(container_id)["status"] == "running"


def test_exec_into_running_container(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    assert runtime.cmd("start", container_id).returncode == 0
    runtime.wait_status(container_id, "running")

    result = runtime.cmd("exec", container_id, "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc/$$/fd; true")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "berth-test"
    assert lines[1].strip() == "sleep 60"
    assert sorted(lines[2:]) == ["0", "1", "2"]

    status = runtime.cmd("exec", container_id, "sh", "-c", "exit 5")
    assert status.returncode == 5

    cgroup_init = open("/proc/%d/cgroup" % runtime.state(container_id)["pid"]).read()
    inside = runtime.cmd("exec", container_id, "cat", "/proc/self/cgroup")
    assert inside.returncode == 0
    assert inside.stdout == cgroup_init

    missing = runtime.cmd("exec", container_id, "no-such-exec-cmd")
    assert missing.returncode != 0
    assert "no-such-exec-cmd" in missing.stderr


def test_exec_with_process_json_detached(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    assert runtime.cmd("start", container_id).returncode == 0
    process = dict(bundle.process)
    process["args"] = ["sh", "-c", "id -u > /dev/shm/exec-user; sleep 60"]
    process["user"] = {"uid": 1234, "gid": 1234}
    process_path = os.path.join(bundle.path, "process.json")
    with open(process_path, "w") as f:
        json.dump(process, f)
    pid_file = os.path.join(bundle.path, "exec.pid")
    with open(os.path.join(bundle.path, "exec-out"), "w") as log:
        result = runtime.cmd("exec", "-d", "--process", process_path, "--pid-file", pid_file, container_id,
                             stdout=log, stderr=log, capture_output=False)
    assert result.returncode == 0
    pid = int(open(pid_file).read())
    assert os.path.exists("/proc/%d" % pid)
    deadline = time.time() + 5
    check = None
    while time.time() < deadline:
        check = runtime.cmd("exec", container_id, "cat", "/dev/shm/exec-user")
        if check.returncode == 0:
            break
        time.sleep(0.05)
    assert check.stdout == "1234\n"


def test_exec_as_other_user_with_cwd_and_env(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    assert runtime.cmd("start", container_id).returncode == 0
    result = runtime.cmd("exec", "--user", "1000:1001", "--cwd", "/tmp", "--env", "EXTRA=yes", container_id,
                         "sh", "-c", 'echo "$(id -u) $(id -g) $(pwd) $EXTRA"')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1000 1001 /tmp yes\n"


def test_exec_in_stopped_container_fails(runtime):
    container_id, bundle, out, err = started(runtime, ["true"])
    assert runtime.cmd("start", container_id).returncode == 0
    runtime.wait_status(container_id, "stopped")
    result = runtime.cmd("exec", container_id, "true")
    assert result.returncode != 0


def hook(path, output):
    return {"path": "/bin/sh", "args": ["sh", "-c", "cat > %s" % os.path.join(path, output)], "timeout": 10}


def test_hooks_receive_state(runtime):
    container_id, bundle = runtime.new_bundle(["sleep", "60"])
    bundle.config["hooks"] = {
        "prestart": [hook(bundle.path, "prestart.json")],
        "createRuntime": [hook(bundle.path, "create-runtime.json")],
        "poststart": [hook(bundle.path, "poststart.json")],
        "poststop": [hook(bundle.path, "poststop.json")],
    }
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    pid = runtime.state(container_id)["pid"]
    for name in ("prestart.json", "create-runtime.json"):
        state = json.load(open(os.path.join(bundle.path, name)))
        assert state["id"] == container_id
        assert state["pid"] == pid
        assert os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path)
    # runc 1.1 runs poststart hooks during create already; the spec (and berth-runtime) after start.
    assert runtime.cmd("start", container_id).returncode == 0
    assert json.load(open(os.path.join(bundle.path, "poststart.json")))["id"] == container_id
    assert runtime.cmd("delete", "--force", container_id).returncode == 0
    assert json.load(open(os.path.join(bundle.path, "poststop.json")))["id"] == container_id


def test_failing_prestart_hook_fails_create(runtime):
    container_id, bundle = runtime.new_bundle(["true"])
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/false", "args": ["false"]}]}
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode != 0
    assert runtime.cmd("state", container_id).returncode != 0


def process_gone(pid, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_delete_kills_leftovers_without_pid_namespace(runtime):
    container_id, bundle = runtime.new_bundle(["sh", "-c", "sleep 60 & echo $!"])
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    result, out, err = runtime.create(bundle, container_id)
    assert result.returncode == 0, open(err).read()
    assert runtime.cmd("start", container_id).returncode == 0
    runtime.wait_status(container_id, "stopped")
    deadline = time.time() + 5
    while not open(out).read().strip() and time.time() < deadline:
        time.sleep(0.02)
    leftover = int(open(out).read())
    assert not process_gone(leftover, timeout=0.1)
    assert runtime.cmd("delete", container_id).returncode == 0
    assert process_gone(leftover)


def test_pause_and_resume(runtime):
    script = "i=0; while true; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.02; done"
    container_id, bundle, out, err = started(runtime, ["sh", "-c", script])
    assert runtime.cmd("start", container_id).returncode == 0
    time.sleep(0.2)
    assert runtime.cmd("pause", container_id).returncode == 0
    assert runtime.state(container_id)["status"] == "paused"
    assert runtime.cmd("exec", container_id, "true").returncode != 0
    assert runtime.cmd("pause", container_id).returncode != 0
    pid = runtime.state(container_id)["pid"]
    frozen = open("/proc/%d/stat" % pid).read()
    time.sleep(0.2)
    assert open("/proc/%d/stat" % pid).read().split()[13] == frozen.split()[13]  # no CPU time while frozen
    assert runtime.cmd("resume", container_id).returncode == 0
    assert runtime.state(container_id)["status"] == "running"
    first = runtime.cmd("exec", container_id, "cat", "/dev/shm/count").stdout
    time.sleep(0.2)
    assert int(runtime.cmd("exec", container_id, "cat", "/dev/shm/count").stdout) > int(first)
    assert runtime.cmd("resume", container_id).returncode != 0


def test_delete_force_paused_container(runtime):
    container_id, bundle, out, err = started(runtime, ["sleep", "60"])
    assert runtime.cmd("start", container_id).returncode == 0
    assert runtime.cmd("pause", container_id).returncode == 0
    assert runtime.cmd("delete", container_id).returncode != 0
    assert runtime.cmd("delete", "--force", container_id).returncode == 0
    assert runtime.cmd("state", container_id).returncode != 0
