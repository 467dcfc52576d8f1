"""What the container process sees: output, exit codes, identity, limits, descriptors."""
import os
import subprocess
import pytest


def run_sh(runtime, script, configure=None):
    container_id, bundle = runtime.new_bundle(["sh", "-c", script])
    if configure:
        configure(bundle)
    return runtime.run(bundle, container_id)


def test_echo_and_exit_code(runtime):
    container_id, bundle = runtime.new_bundle(["echo", "hello from", "the container"])
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the container\n"


@pytest.mark.parametrize("code", [1, 3, 42])
def test_exit_code_propagates(runtime, code):
    result = run_sh(runtime, "exit %d" % code)
    assert result.returncode == code, result.stderr


def test_stderr_is_passed_through(runtime):
    result = run_sh(runtime, "echo oops >&2")
    assert result.returncode == 0
    assert result.stderr.endswith("oops\n")


def test_hostname(runtime):
    result = run_sh(runtime, "hostname", lambda b: b.config.update(hostname="ship-1"))
    assert result.stdout == "ship-1\n", result.stderr


def test_init_is_pid_one(runtime):
    result = run_sh(runtime, "echo $$")
    assert result.stdout == "1\n", result.stderr


def test_only_stdio_descriptors_reach_the_container(runtime):
    # "; true" keeps sh from exec'ing ls, whose own directory descriptor would show.
    result = run_sh(runtime, "ls /proc/$$/fd; true")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["0", "1", "2"]


def test_environment_and_cwd(runtime):
    def configure(bundle):
        bundle.process["env"] = ["PATH=/bin", "GREETING=ahoy"]
        bundle.process["cwd"] = "/work/dir"
    result = run_sh(runtime, 'echo "$GREETING $(pwd)"', configure)
    assert result.stdout == "ahoy /work/dir\n", result.stderr


def test_capabilities(runtime):
    def configure(bundle):
        caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        bundle.process["capabilities"] = {
            "bounding": caps, "effective": caps, "permitted": caps, "inheritable": [], "ambient": []}
    result = run_sh(runtime, "grep ^Cap /proc/self/status", configure)
    fields = dict(line.split(":\t") for line in result.stdout.splitlines())
    expected = "%016x" % ((1 << 0) | (1 << 5) | (1 << 10))
    assert fields["CapInh"] == "0000000000000000"
    assert fields["CapBnd"] == expected
    assert fields["CapEff"] == expected
    assert fields["CapPrm"] == expected
    assert fields["CapAmb"] == "0000000000000000"


def test_no_new_privileges(runtime):
    result = run_sh(runtime, "grep NoNewPrivs /proc/self/status")
    assert result.stdout.split() == ["NoNewPrivs:", "1"], result.stderr


def test_rlimits(runtime):
    def configure(bundle):
        bundle.process["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
            {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        ]
    result = run_sh(runtime, "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu", configure)
    assert result.stdout.split() == ["512", "1024", "300", "400"], result.stderr


def test_user_switch(runtime):
    def configure(bundle):
        bundle.process["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20]}
    result = run_sh(runtime, "grep -E '^(Uid|Gid|Groups)' /proc/self/status", configure)
    lines = {l.split(":")[0]: l.split(":", 1)[1].split() for l in result.stdout.splitlines()}
    assert lines["Uid"] == ["1000"] * 4, result.stderr
    assert lines["Gid"] == ["1001"] * 4
    assert lines["Groups"] == ["10", "20"]


def test_root_has_no_supplementary_groups(runtime):
    result = run_sh(runtime, "grep ^Groups /proc/self/status")
    assert result.stdout.split() == ["Groups:"], result.stderr


def test_missing_command_is_an_error_naming_it(runtime):
    container_id, bundle = runtime.new_bundle(["no-such-command-xyz"])
    result = runtime.run(bundle, container_id)
    assert result.returncode != 0
    assert "no-such-command-xyz" in result.stderr
    assert "not found" in result.stderr


def test_missing_command_fails_at_create(runtime):
    container_id, bundle = runtime.new_bundle(["/bin/no-such-command-xyz"])
    result, _, err = runtime.create(bundle, container_id)
    assert result.returncode != 0
    assert "no-such-command-xyz" in open(err).read()


def test_sysctl_and_oom_score_adj(runtime):
    def configure(bundle):
        bundle.linux["sysctl"] = {"kernel.shm_rmid_forced": "1", "net.ipv4.ip_forward": "1"}
        bundle.process["oomScoreAdj"] = 123
    result = run_sh(runtime, "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj",
                    configure)
    assert result.stdout.split() == ["1", "1", "123"], result.stderr


def test_spec_devices_are_created(runtime):
    def configure(bundle):
        bundle.linux["devices"] = [
            {"type": "c", "path": "/dev/kmsg-test", "major": 1, "minor": 11, "fileMode": 0o640, "uid": 0, "gid": 0},
            {"type": "c", "path": "/dev/nested/null", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0},
        ]
    result = run_sh(runtime, "stat -c '%n %t:%T %a' /dev/kmsg-test /dev/nested/null", configure)
    assert result.stdout.splitlines() == ["/dev/kmsg-test 1:b 640", "/dev/nested/null 1:3 666"], result.stderr


def test_failed_create_leaves_nothing_behind(runtime):
    container_id, bundle = runtime.new_bundle(["no-such-command-xyz"])
    result, _, err = runtime.create(bundle, container_id)
    assert result.returncode != 0
    assert runtime.cmd("state", container_id).returncode != 0
    assert not os.path.exists("/sys/fs/cgroup/memory" + bundle.linux["cgroupsPath"])
    assert not os.path.exists("/sys/fs/cgroup/unified" + bundle.linux["cgroupsPath"])


def test_preserve_fds_passes_exactly_the_requested_descriptors(runtime):
    container_id, bundle = runtime.new_bundle(["sh", "-c", "echo through-fd-3 >&3; ls /proc/$$/fd; true"])
    bundle.write()
    runtime.created.append(container_id)
    target = os.path.join(bundle.path, "fd3")
    command = [runtime.binary, "--root", runtime.root, "run", "--preserve-fds", "1", "--bundle", bundle.path, container_id]
    # fd 3 is passed on; fd 4 is open in the runtime too but must not reach the container.
    result = subprocess.run(["sh", "-c", 'exec "$@" 3>"%s" 4</dev/null' % target, "sh", *command],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["0", "1", "2", "3"]
    assert open(target).read() == "through-fd-3\n"
