"""`docker run` through berthd, with the real docker CLI, on Berth's runtime and on runc."""
import json

import pytest

from .conftest import RUNTIMES


def run(daemon, runtime, *args, **kw):
    return daemon.docker("run", "--rm", "--runtime", runtime, *args, **kw)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_echo_prints_and_exits_zero(daemon, runtime):
    r = run(daemon, runtime, "busybox", "echo", "hello from berth")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello from berth\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exit_status_is_the_containers(daemon, runtime):
    r = run(daemon, runtime, "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.returncode == 3
    assert r.stdout == b"out\n"
    assert r.stderr == b"err\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_output_written_at_once_reaches_the_client_and_the_log_whole(daemon, runtime):
    # The process runs before the attach connects: the monitor keeps the first 64 KiB and then
    # stops reading until the client comes, so neither the client nor the log loses a byte.
    script = "head -c 300000 /dev/zero | tr '\\0' a; echo; head -c 100000 /dev/zero | tr '\\0' b >&2"
    r = daemon.docker("run", "--name", f"bulk-{runtime}", "--runtime", runtime, "busybox", "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"a" * 300000 + b"\n"
    assert r.stderr == b"b" * 100000
    logs = daemon.docker("logs", f"bulk-{runtime}")
    assert logs.stdout == b"a" * 300000 + b"\n" and logs.stderr == b"b" * 100000
    daemon.docker("rm", f"bulk-{runtime}", check=True)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_missing_command_exits_127_and_names_it(daemon, runtime):
    r = run(daemon, runtime, "busybox", "no-such-command")
    assert r.returncode == 127, r.stderr
    assert b"no-such-command" in r.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_non_executable_command_exits_126(daemon, runtime):
    r = run(daemon, runtime, "busybox", "/etc/passwd")
    assert r.returncode == 126, r.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_environment_workdir_user_and_hostname(daemon, runtime):
    r = run(daemon, runtime, "-e", "GREETING=hi", "-w", "/tmp", "-u", "nobody", "--hostname", "boxy",
            "busybox", "sh", "-c", 'echo "$GREETING $(pwd) $(id -u):$(id -g) $(hostname)"')
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hi /tmp 65534:65534 boxy\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_process_is_pid_one_and_holds_only_stdio(daemon, runtime):
    r = run(daemon, runtime, "busybox", "sh", "-c", "echo $$; ls /proc/self/fd")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().split()
    assert lines[0] == "1"
    # ls itself opens one descriptor for the directory it lists.
    assert sorted(int(x) for x in lines[1:]) == [0, 1, 2, 3]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_capabilities_match_docker(daemon, runtime):
    r = run(daemon, runtime, "busybox", "grep", "^Cap", "/proc/self/status")
    fields = dict(line.split(":\t") for line in r.stdout.decode().splitlines())
    assert fields["CapInh"] == "0000000000000000"
    assert fields["CapEff"] == "00000000a80425fb"
    assert fields["CapBnd"] == "00000000a80425fb"
    assert fields["CapAmb"] == "0000000000000000"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cap_drop_and_add(daemon, runtime):
    r = run(daemon, runtime, "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "busybox", "grep", "^CapEff", "/proc/self/status")
    assert r.stdout.decode().split()[1] == "0000000000001000"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_masked_and_readonly_paths(daemon, runtime):
    r = run(daemon, runtime, "busybox", "sh", "-c",
            "exec 2>&1; cat /proc/keys | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>&1; touch /sys/x 2>&1; true")
    out = r.stdout.decode()
    lines = out.splitlines()
    assert lines[0].strip() == "0"
    assert lines[1].strip() == "0"
    assert out.count("Read-only file system") == 2, out


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_read_only_rootfs_and_tmpfs(daemon, runtime):
    r = run(daemon, runtime, "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c",
            "exec 2>&1; touch /x; touch /scratch/ok && echo wrote")
    assert b"Read-only file system" in r.stdout
    assert b"wrote" in r.stdout


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bind_mount_read_only_and_read_write(daemon, runtime, tmp_path):
    (tmp_path / "in.txt").write_text("from host\n")
    r = run(daemon, runtime, "-v", f"{tmp_path}:/data", "-v", f"{tmp_path}:/ro:ro", "busybox", "sh", "-c",
            "exec 2>&1; cat /data/in.txt; echo back > /data/out.txt; touch /ro/nope; true")
    assert b"from host" in r.stdout
    assert b"Read-only file system" in r.stdout
    assert (tmp_path / "out.txt").read_text() == "back\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_memory_and_pids_limits_reach_the_cgroup(daemon, runtime):
    r = run(daemon, runtime, "-m", "64m", "--pids-limit", "20", "busybox", "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || "
            "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"67108864", b"20"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_pids_limit_is_enforced(daemon, runtime):
    r = run(daemon, runtime, "--pids-limit", "8", "busybox", "sh", "-c",
            "exec 2>&1; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; wait")
    assert b"Resource temporarily unavailable" in r.stdout or b"can't fork" in r.stdout, r.stdout


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_init_runs_docker_init_as_pid_one(daemon, runtime):
    r = run(daemon, runtime, "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"/sbin/docker-init -- sh")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_no_new_privileges(daemon, runtime):
    r = run(daemon, runtime, "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status")
    assert r.stdout.split()[-1] == b"1"
    r = run(daemon, runtime, "busybox", "grep", "NoNewPrivs", "/proc/self/status")
    assert r.stdout.split()[-1] == b"0"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_devices_outside_the_allow_list_cannot_be_opened(daemon, runtime):
    r = run(daemon, runtime, "busybox", "sh", "-c", "exec 2>&1; mknod /tmp/sda b 8 0 && head -c1 /tmp/sda; true")
    assert b"Operation not permitted" in r.stdout


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_network_none_has_only_loopback(daemon, runtime):
    r = run(daemon, runtime, "--network", "none", "busybox", "ls", "/sys/class/net")
    assert r.stdout.split() == [b"lo"]


def test_stdin_is_passed_with_interactive(daemon):
    r = daemon.docker("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input=b"shout\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"SHOUT\n"


def test_unknown_image_is_a_clear_error(daemon):
    r = daemon.docker("run", "--rm", "no-such-image:1", "true")
    assert r.returncode == 125
    assert b"no-such-image" in r.stderr


def test_invalid_memory_value_is_refused(daemon):
    r = daemon.docker("run", "--rm", "-m", "lots", "busybox", "true")
    assert r.returncode == 125
    assert b"lots" in r.stderr
