"""Container options of docker's `run` that shape namespaces, devices and limits, on both
runtimes: `--pid/--ipc/--uts host|container:<id>`, `--ipc none`, `--group-add`, `--device`,
`--device-cgroup-rule`, `--sysctl`, `--shm-size`, `--ulimit`, `--oom-score-adj`,
`--oom-kill-disable`, `--cpuset-cpus`, `--cpu-shares`, `--memory-reservation`,
`--memory-swap`, `--stop-timeout`, `--label-file`, `--annotation`, and docker's refusals."""
import json
import os

import pytest

from .conftest import RUNTIMES


def run(daemon, *args):
    r = daemon.docker("run", "--rm", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


def ns(link):
    return os.readlink(link)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_host_and_container_namespaces(daemon, runtime):
    host_ipc, host_uts, host_pid = ns("/proc/self/ns/ipc"), ns("/proc/self/ns/uts"), ns("/proc/self/ns/pid")
    out = run(daemon, "--runtime", runtime, "--pid", "host", "--ipc", "host", "--uts", "host", "busybox", "sh", "-c",
              "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname")
    assert out.split() == [host_pid, host_ipc, host_uts, os.uname().nodename]
    name = f"ns-src-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "busybox", "sleep", "300", check=True)
    try:
        pid = json.loads(daemon.docker("inspect", "-f", "{{.State.Pid}}", name, check=True).stdout)
        out = run(daemon, "--runtime", runtime, "--pid", f"container:{name}", "--ipc", f"container:{name}",
                  "busybox", "sh", "-c", "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; ps -o comm | grep -c sleep")
        fields = out.split()
        assert fields[:2] == [ns(f"/proc/{pid}/ns/pid"), ns(f"/proc/{pid}/ns/ipc")] and fields[3] == "1"
        assert fields[2] not in (ns(f"/proc/{pid}/ns/uts"), host_uts)
    finally:
        daemon.docker("rm", "-f", name)
    assert "/dev/shm" not in run(daemon, "--runtime", runtime, "--ipc", "none", "busybox", "cat", "/proc/self/mounts")


def test_namespace_refusals(daemon):
    daemon.docker("create", "--name", "ns-stopped", "busybox", "true", check=True)
    try:
        r = daemon.docker("run", "--rm", "--pid", "container:ns-stopped", "busybox", "true")
        assert r.returncode != 0 and b"cannot join PID of a non running container: ns-stopped" in r.stderr
        r = daemon.docker("run", "--rm", "--uts", "host", "--hostname", "x1", "busybox", "true")
        assert r.returncode == 125 and b"Conflicting options: hostname and the UTS mode" in r.stderr, r.stderr
        # The docker CLI checks modes itself; the daemon's own answers, through docker-py:
        client = daemon.client()
        for host_config, message in [({"PidMode": "bogus"}, "invalid PID mode: bogus"), ({"IpcMode": "weird"}, "invalid IPC mode: weird"),
                                     ({"UTSMode": "container:ns-stopped"}, "invalid UTS mode")]:
            res = client.api._post_json(client.api._url("/containers/create"), data={"Image": "busybox", "Cmd": ["true"], "HostConfig": host_config})
            assert res.status_code == 400 and message in res.json()["message"], host_config
    finally:
        daemon.docker("rm", "-f", "ns-stopped")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_groups_devices_sysctls_and_limits(daemon, runtime):
    out = run(daemon, "--runtime", runtime, "--group-add", "nogroup", "--group-add", "1234", "-u", "1000", "busybox", "id", "-G")
    assert set(out.split()) >= {"65534", "1234"}
    out = run(daemon, "--runtime", runtime, "--device", "/dev/fuse:/dev/myfuse:r", "busybox", "sh", "-c",
              "stat -c '%t:%T' /dev/myfuse; head -c0 /dev/myfuse && echo readable; echo x > /dev/myfuse || echo denied")
    lines = out.split("\n")
    st = os.stat("/dev/fuse")
    assert lines[0] == f"{os.major(st.st_rdev):x}:{os.minor(st.st_rdev):x}"
    assert "denied" in out
    out = run(daemon, "--runtime", runtime, "--device-cgroup-rule", "c 1:9 rwm", "busybox", "sh", "-c", "mknod /dev/u2 c 1 9 && head -c 4 /dev/u2 | wc -c")
    assert out.strip() == "4"
    out = run(daemon, "--runtime", runtime, "--sysctl", "kernel.shmmax=1048576", "--sysctl", "net.ipv4.ip_forward=1",
              "--shm-size", "32m", "--ulimit", "nofile=512:1024", "--oom-score-adj", "300", "busybox", "sh", "-c",
              "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward; df -k /dev/shm | tail -1; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj")
    fields = out.split("\n")
    assert fields[0:2] == ["1048576", "1"]
    assert fields[2].split()[1] == str(32 * 1024)
    assert fields[3:6] == ["512", "1024", "300"]


def test_resource_flags_and_metadata(daemon, tmp_path):
    labels = tmp_path / "labels"
    labels.write_text("# comment\nteam=blue\ntier=web\n")
    daemon.docker("run", "-d", "--name", "res-flags", "--cpuset-cpus", "0", "--cpu-shares", "256", "-m", "64m", "--memory-swap", "128m",
                  "--memory-reservation", "16m", "--oom-kill-disable", "--stop-timeout", "3", "--label-file", str(labels),
                  "--annotation", "org.example.note=hello", "busybox", "sleep", "300", check=True)
    try:
        info = json.loads(daemon.docker("inspect", "res-flags", check=True).stdout)[0]
        host = info["HostConfig"]
        assert (host["CpusetCpus"], host["CpuShares"], host["MemorySwap"], host["MemoryReservation"], host["OomKillDisable"]) == \
            ("0", 256, 128 * 1024 * 1024, 16 * 1024 * 1024, True)
        assert info["Config"]["StopTimeout"] == 3
        assert info["Config"]["Labels"] == {"team": "blue", "tier": "web"}
        assert host["Annotations"] == {"org.example.note": "hello"}
        pid = info["State"]["Pid"]
        cg = dict(line.split(":", 2)[1:] for line in open(f"/proc/{pid}/cgroup").read().splitlines())
        assert open(f"/sys/fs/cgroup/cpuset{cg['cpuset']}/cpuset.cpus").read().strip() == "0"
        assert open(f"/sys/fs/cgroup/memory{cg['memory']}/memory.oom_control").read().startswith("oom_kill_disable 1")
    finally:
        daemon.docker("rm", "-f", "res-flags")
    # The daemon's own refusals (the docker CLI checks some of these itself first).
    client = daemon.client()
    for host_config, message in [({"Sysctls": {"kernel.panic": "1"}}, "sysctl 'kernel.panic' is not allowed"),
                                 ({"NetworkMode": "host", "Sysctls": {"net.ipv4.ip_forward": "1"}}, "not allowed in host network namespace"),
                                 ({"IpcMode": "host", "Sysctls": {"kernel.shmmax": "1"}}, "not allowed with IpcMode=host"),
                                 ({"Devices": [{"PathOnHost": "/dev/definitely-missing"}]}, "error gathering device information"),
                                 ({"Devices": [{"PathOnHost": "/etc/passwd"}]}, "not a device node"),
                                 ({"DeviceCgroupRules": ["x 1:1 r"]}, "invalid device cgroup format"),
                                 ({"OomScoreAdj": 5000}, "range for oom score adj is [-1000, 1000]")]:
        res = client.api._post_json(client.api._url("/containers/create"), data={"Image": "busybox", "Cmd": ["true"], "HostConfig": host_config})
        assert res.status_code == 400 and message in res.json()["message"], (host_config, res.text)
    r = daemon.docker("run", "--rm", "--group-add", "no-such-group", "busybox", "true")
    assert r.returncode != 0 and b"Unable to find group no-such-group" in r.stderr, r.stderr


def test_berth_cli_takes_the_same_flags(daemon, tmp_path):
    labels = tmp_path / "labels"
    labels.write_text("team=red\n")
    r = daemon.berth("run", "--name", "berth-flags", "--pid", "host", "--ipc", "host", "--group-add", "1234", "--sysctl", "net.ipv4.ip_forward=1",
                     "--shm-size", "16m", "--ulimit", "nofile=100:200", "--device", "/dev/fuse", "--oom-score-adj", "100",
                     "--cpu-shares", "128", "--cpuset-cpus", "0", "--memory-reservation", "8m", "-m", "32m", "--memory-swap", "64m",
                     "--stop-timeout", "2", "--label-file", str(labels), "--annotation", "a.b=c", "--oom-kill-disable",
                     "busybox", "sh", "-c", "id -G; cat /proc/sys/net/ipv4/ip_forward; ulimit -n; test -c /dev/fuse && echo fuse; readlink /proc/self/ns/pid")
    try:
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode().split()
        assert "1234" in out and out[-4:] == ["1", "100", "fuse", os.readlink("/proc/self/ns/pid")]
        info = json.loads(daemon.docker("inspect", "berth-flags", check=True).stdout)[0]
        host = info["HostConfig"]
        assert (host["ShmSize"], host["OomScoreAdj"], host["CpuShares"], host["CpusetCpus"], host["MemorySwap"], host["OomKillDisable"]) == \
            (16 * 1024 * 1024, 100, 128, "0", 64 * 1024 * 1024, True)
        assert host["Ulimits"] == [{"Name": "nofile", "Soft": 100, "Hard": 200}]
        assert info["Config"]["Labels"] == {"team": "red"} and info["Config"]["StopTimeout"] == 2
    finally:
        daemon.docker("rm", "-f", "berth-flags")
