"""One operation per container at a time, and a start that the daemon's death cut short is
reconciled truthfully: running exactly when its monitor lives, else created or exited with
nothing left mounted."""
import json
import os
import subprocess
import threading
import time

from berth_testlib import mounts_under, processes_mentioning


def state_of(d, cid):
    return json.loads(d.docker("inspect", cid).stdout)[0]["State"]


def monitors_of(cid):
    return [p for p in processes_mentioning(cid) if b"berth-monitor" in open(f"/proc/{p}/cmdline", "rb").read()]


def test_concurrent_starts_run_the_container_once(daemon):
    cid = daemon.docker("create", "busybox", "sleep", "60").stdout.decode().strip()
    try:
        results = []
        threads = [threading.Thread(target=lambda: results.append(daemon.docker("start", cid))) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
        assert state_of(daemon, cid)["Status"] == "running"
        time.sleep(0.3)
        assert len(monitors_of(cid)) == 1
        # stop and start racing: each completes in turn, and the end state is one of the two.
        racers = [threading.Thread(target=lambda: daemon.docker("stop", "-t", "0", cid)),
                  threading.Thread(target=lambda: daemon.docker("start", cid))]
        for t in racers:
            t.start()
        for t in racers:
            t.join()
        time.sleep(0.3)
        status = state_of(daemon, cid)["Status"]
        assert (status == "running") == (len(monitors_of(cid)) == 1), (status, monitors_of(cid))
    finally:
        daemon.docker("rm", "-f", cid)


def test_a_start_cut_short_by_kill9_is_reconciled_truthfully(fresh_daemon):
    d = fresh_daemon
    env = dict(os.environ, DOCKER_HOST=d.host)
    seen = set()
    for delay in (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15):
        cid = d.docker("create", "busybox", "sleep", "60").stdout.decode().strip()
        starter = subprocess.Popen(["docker", "start", cid], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        d.kill9()
        starter.wait(timeout=30)
        d.start()
        state = state_of(d, cid)
        seen.add(state["Status"])
        rootfs = os.path.join(d.root, "containers", cid, "rootfs")
        if state["Status"] == "running":
            assert monitors_of(cid), f"recorded running after {delay}s but no monitor runs"
            assert d.docker("exec", cid, "true").returncode == 0
        else:
            assert state["Status"] == "created", state
            assert not monitors_of(cid), f"a monitor runs but the container is recorded {state['Status']}"
            assert mounts_under(rootfs) == []
            # The container can be started normally afterwards.
            assert d.docker("start", cid).returncode == 0
            assert state_of(d, cid)["Status"] == "running"
        assert d.docker("rm", "-f", cid).returncode == 0
    assert seen, "no start was tried"


def test_leftovers_of_an_interrupted_create_are_swept(fresh_daemon):
    d = fresh_daemon
    cid = d.docker("create", "busybox", "true").stdout.decode().strip()
    record = os.path.join(d.root, "containers", cid, "container.json")
    d.kill9()
    # What a create killed between its snapshot and its record leaves: no container.json.
    os.unlink(record)
    d.start()
    assert not os.path.exists(os.path.join(d.root, "containers", cid))
    assert not os.path.exists(os.path.join(d.root, "snapshots", "containers", cid))
    assert d.docker("ps", "-aq").stdout == b""


def test_rm_force_ends_a_pending_stop(daemon):
    cid = daemon.docker("run", "-d", "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 1; done").stdout.decode().strip()
    env = dict(os.environ, DOCKER_HOST=daemon.host)
    stopper = subprocess.Popen(["docker", "stop", "-t", "300", cid], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        start = time.monotonic()
        r = daemon.docker("rm", "-f", cid, timeout=60)
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - start < 20
        stopper.wait(timeout=30)
        assert daemon.docker("inspect", cid).returncode != 0
    finally:
        stopper.kill()
        daemon.docker("rm", "-f", cid)
