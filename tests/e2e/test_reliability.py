"""Reliability under a scripted workload (issue 8): `kill -9 berthd` at random points while
clients create, start, exec, copy, write volumes and containers are restarted by their
policy, repeated; afterwards every running container still runs, restart policies resume,
volumes keep their data, and no record says anything the kernel contradicts. Then many
concurrent API clients doing create/start/logs/stats/rm: no errors but deliberate conflicts,
and nothing leaked (mounts, cgroups, processes, descriptors, files), counted before and after."""
import io
import json
import os
import random
import tarfile
import threading
import time

import docker
import pytest


def state(d, name):
    return json.loads(d.docker("inspect", name, check=True).stdout)[0]["State"]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def workload_step(client, i):
    """One round of everyday calls; errors caused by the daemon's death are expected."""
    name = f"wl-{i}"
    c = client.containers.run("busybox", ["sh", "-c", f"echo {i} >> /data/rounds; sleep 300"], detach=True, name=name,
                              volumes={"wl-vol": {"bind": "/data", "mode": "rw"}})
    c.exec_run(["sh", "-c", "echo exec > /tmp/x"])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(f"cp-{i}")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
    c.put_archive("/data", buf.getvalue())
    c.stats(stream=False, one_shot=True)
    if i % 2:
        c.remove(force=True)


def test_kill9_during_a_workload_keeps_everything_consistent(fresh_daemon):
    d = fresh_daemon
    rng = random.Random(8)
    d.docker("run", "-d", "--name", "wl-policy", "--restart", "always", "busybox", "sh", "-c", "sleep 0.3; exit 1", check=True)
    d.docker("run", "-d", "--name", "wl-steady", "-v", "wl-vol:/data", "busybox", "sleep", "600", check=True)
    steady_pid = state(d, "wl-steady")["Pid"]
    for round_number in range(4):
        stop = threading.Event()
        client = docker.DockerClient(base_url=d.host, version="1.44", timeout=10)

        def drive():
            i = round_number * 100
            while not stop.is_set():
                try:
                    workload_step(client, i)
                except Exception:
                    pass
                i += 1

        worker = threading.Thread(target=drive)
        worker.start()
        time.sleep(rng.uniform(0.3, 1.5))
        d.kill9()
        stop.set()
        worker.join(timeout=30)
        d.start()
        # The steady container never stopped; the policy container is being restarted again.
        assert pid_alive(steady_pid)
        s = state(d, "wl-steady")
        assert s["Running"] and s["Pid"] == steady_pid
        # Every record agrees with the kernel: running ones have a live pid, others none. (A
        # process that has just ended is reported once its monitor has drained its output:
        # the record may lag the kernel by that long, never longer.)
        for line in d.docker("ps", "-aq", "--no-trunc", check=True).stdout.decode().split():
            deadline = time.time() + 5
            while True:
                s = state(d, line)
                consistent = (s["Pid"] > 0 and pid_alive(s["Pid"])) if s["Running"] and not s["Restarting"] else s["Pid"] == 0
                if consistent or time.time() > deadline:
                    break
                time.sleep(0.1)
            assert consistent, (line, s)
    before = state(d, "wl-policy")
    deadline = time.time() + 15
    while time.time() < deadline and json.loads(d.docker("inspect", "-f", "{{.RestartCount}}", "wl-policy", check=True).stdout) <= 0:
        time.sleep(0.2)
    assert json.loads(d.docker("inspect", "-f", "{{.RestartCount}}", "wl-policy", check=True).stdout) > 0, before
    rounds = d.docker("exec", "wl-steady", "cat", "/data/rounds", check=True).stdout.decode().split()
    assert len(rounds) >= 1 and all(r.isdigit() for r in rounds)
    # Everything can still be removed, and nothing is left mounted.
    ids = d.docker("ps", "-aq", check=True).stdout.decode().split()
    assert d.docker("rm", "-f", *ids).returncode == 0
    with open("/proc/self/mountinfo") as f:
        assert not [line for line in f if os.path.join(d.root, "containers") in line or os.path.join(d.root, "snapshots", "containers") in line]


def resources(d):
    with open("/proc/self/mountinfo") as f:
        mounts = sum(1 for line in f if d.base in line)
    cgroups = sum(len(dirs) for _, dirs, _ in os.walk("/sys/fs/cgroup/memory/berth")) if os.path.isdir("/sys/fs/cgroup/memory/berth") else 0
    fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
    processes = sum(1 for p in os.listdir("/proc") if p.isdigit() and _mentions(p, d.base))
    files = len(os.listdir(os.path.join(d.root, "containers")))
    return {"mounts": mounts, "cgroups": cgroups, "fds": fds, "processes": processes, "containers": files}


def _mentions(pid, text):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return text.encode() in f.read()
    except OSError:
        return False


def test_concurrent_clients_leave_nothing_behind(fresh_daemon):
    d = fresh_daemon
    clients, seconds = 200, 60
    before = resources(d)
    errors = []
    counts = {"ok": 0, "conflict": 0}
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker(n):
        client = docker.DockerClient(base_url=d.host, version="1.44", timeout=120)
        i = 0
        while time.time() < deadline:
            name = f"cc-{n}-{i}"
            try:
                c = client.containers.create("busybox", ["sh", "-c", "echo hi; sleep " + ("30" if i % 5 == 0 else "0.2")], name=name)
                c.start()
                c.logs()
                c.stats(stream=False, one_shot=True)
                removed = False
                if i % 5 == 0:
                    # A deliberate conflict: removing it without force while it runs.
                    try:
                        c.remove()
                        removed = True
                    except docker.errors.APIError as e:
                        if e.status_code != 409:
                            raise
                        with lock:
                            counts["conflict"] += 1
                if not removed:
                    c.remove(force=True)
                with lock:
                    counts["ok"] += 1
            except Exception as e:  # noqa: BLE001 - every other failure is reported
                with lock:
                    errors.append(f"{name}: {e!r}")
            i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    assert not errors, errors[:5]
    assert counts["ok"] > clients and counts["conflict"] > 0
    time.sleep(2)
    after = resources(d)
    assert after["mounts"] == before["mounts"], (before, after)
    assert after["cgroups"] == before["cgroups"], (before, after)
    assert after["processes"] == before["processes"], (before, after)
    assert after["containers"] == before["containers"], (before, after)
    # The daemon's descriptors come back to what they were (a little slack for its pools).
    assert after["fds"] <= before["fds"] + 8, (before, after)
    print(f"\n{counts['ok']} create/start/logs/stats/rm cycles by {clients} clients in {seconds} s, "
          f"{counts['conflict']} deliberate conflicts; before {before}, after {after}")
