"""What the container cannot see or change: masked and read-only paths, /sys, mounts, cgroups."""
import os

import pytest


def run_sh(runtime, script, configure=None):
    container_id, bundle = runtime.new_bundle(["sh", "-c", script])
    if configure:
        configure(bundle)
    return runtime.run(bundle, container_id)


def test_masked_paths_read_empty(runtime):
    result = run_sh(runtime, "wc -c < /proc/keys; wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l")
    assert result.stdout.split() == ["0", "0", "0"], result.stderr


def test_readonly_paths_refuse_writes(runtime):
    result = run_sh(runtime, "echo 1 > /proc/sys/kernel/domainname; echo 1 > /proc/sysrq-trigger; echo $?;"
                             " cat /proc/self/mountinfo")
    lines = result.stdout.splitlines()
    assert lines[0] == "1", result.stderr
    assert "/proc/sys/kernel/domainname: Read-only file system" in result.stderr
    options = {l.split()[4]: l.split()[5].split(",") for l in lines[1:]}
    assert "ro" in options["/proc/sys"]
    # The others are skipped when this kernel lacks them (no /proc/sysrq-trigger here).
    for path in ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger"):
        assert "ro" in options.get(path, ["ro"]), path


def test_sys_is_read_only(runtime):
    result = run_sh(runtime, "mkdir /sys/kernel/berth; echo $?")
    assert result.stdout == "1\n"
    assert "Read-only file system" in result.stderr


def test_readonly_root(runtime):
    result = run_sh(runtime, "touch /berth-file; echo $?; touch /dev/shm/ok && echo shm-writable")
    assert result.stdout == "1\nshm-writable\n"
    assert "Read-only file system" in result.stderr


def test_mounts_present(runtime):
    result = run_sh(runtime, "cat /proc/mounts")
    mounts = {}
    for line in result.stdout.splitlines():
        source, target, fstype, options = line.split()[:4]
        mounts[target] = (fstype, options.split(","))
    assert mounts["/proc"][0] == "proc"
    assert mounts["/dev"][0] == "tmpfs"
    assert mounts["/dev/pts"][0] == "devpts"
    assert "ptmxmode=666" in mounts["/dev/pts"][1]
    assert mounts["/dev/shm"][0] == "tmpfs"
    assert mounts["/dev/mqueue"][0] == "mqueue"
    assert mounts["/sys"][0] == "sysfs" and "ro" in mounts["/sys"][1]
    assert "/sys/fs/cgroup" in mounts


def test_bind_mount_read_only(runtime):
    container_id, bundle = runtime.new_bundle(["sh", "-c", "cat /data/hello; echo x > /data/new; echo $?"])
    host_dir = os.path.join(bundle.path, "host-data")
    os.makedirs(host_dir)
    with open(os.path.join(host_dir, "hello"), "w") as f:
        f.write("from the host\n")
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": host_dir, "options": ["rbind", "ro"]})
    result = runtime.run(bundle, container_id)
    assert result.stdout == "from the host\n1\n", result.stderr
    assert "Read-only file system" in result.stderr
    assert not os.path.exists(os.path.join(host_dir, "new"))


def test_default_devices(runtime):
    result = run_sh(runtime, "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done;"
                             " for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done")
    assert result.stdout.splitlines() == [
        "/dev/null character special file 1:3",
        "/dev/zero character special file 1:5",
        "/dev/full character special file 1:7",
        "/dev/random character special file 1:8",
        "/dev/urandom character special file 1:9",
        "/dev/tty character special file 5:0",
        "pts/ptmx", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2",
    ], result.stderr


def test_device_cgroup_denies_other_devices(runtime):
    # mknod of a block device is allowed ("b *:* m") but opening it is not.
    def configure(bundle):
        caps = ["CAP_MKNOD", "CAP_DAC_OVERRIDE"]
        bundle.process["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    result = run_sh(runtime, "mknod /dev/sda-test b 8 0 && head -c1 /dev/sda-test; echo $?", configure)
    assert result.stdout.strip().endswith("1"), result.stderr
    assert "Operation not permitted" in result.stderr


def test_memory_limit_visible_in_cgroup(runtime):
    def configure(bundle):
        bundle.linux["resources"]["memory"] = {"limit": 64 * 1024 * 1024}
    result = run_sh(runtime, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
                             " || cat /sys/fs/cgroup/memory.max", configure)
    assert result.stdout == "%d\n" % (64 * 1024 * 1024), result.stderr


def test_cpu_quota_applied(runtime):
    def configure(bundle):
        bundle.linux["resources"]["cpu"] = {"quota": 50000, "period": 100000, "shares": 512}
    result = run_sh(runtime, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us"
                             " /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.max", configure)
    assert result.stdout.split() in (["50000", "100000", "512"], ["50000", "100000"]), result.stderr


def test_pids_limit_enforced(runtime):
    def configure(bundle):
        bundle.linux["resources"]["pids"] = {"limit": 8}
    script = "i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo started"
    result = run_sh(runtime, script, configure)
    assert "can't fork" in result.stderr or "Resource temporarily unavailable" in result.stderr, result.stderr


@pytest.mark.parametrize("directory", ["proc", "sys"])
def test_proc_or_sys_symlink_is_refused(runtime, directory):
    container_id, bundle = runtime.new_bundle(["true"])
    os.rmdir(os.path.join(bundle.rootfs, directory))
    os.makedirs(os.path.join(bundle.rootfs, "elsewhere"))
    os.symlink("elsewhere", os.path.join(bundle.rootfs, directory))
    result = runtime.run(bundle, container_id)
    assert result.returncode != 0
    assert "/" + directory in result.stderr


@pytest.mark.parametrize("no_new_privileges", [True, False])
def test_seccomp_rules_with_and_without_arguments(runtime, no_new_privileges):
    def configure(bundle):
        bundle.process["noNewPrivileges"] = no_new_privileges
        bundle.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                 "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]},
                {"names": ["no_such_syscall_name"], "action": "SCMP_ACT_ERRNO"},
            ],
        }
    result = run_sh(runtime, "mkdir /dev/shm/d; echo mkdir=$?; kill -0 $$; echo kill0=$?; kill -USR1 $$; echo usr1=$?",
                    configure)
    assert result.stdout.split() == ["mkdir=1", "kill0=0", "usr1=1"], result.stderr
    assert "Operation not permitted" in result.stderr


def test_settings_that_would_change_the_host_are_refused(runtime):
    host_hostname = open("/proc/sys/kernel/hostname").read()
    container_id, bundle = runtime.new_bundle(["true"])
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "uts"]
    bundle.config["hostname"] = "must-not-leak"
    assert runtime.run(bundle, container_id).returncode != 0
    assert open("/proc/sys/kernel/hostname").read() == host_hostname

    container_id, bundle = runtime.new_bundle(["true"])
    bundle.linux["sysctl"] = {"vm.swappiness": "1"}
    swappiness = open("/proc/sys/vm/swappiness").read()
    assert runtime.run(bundle, container_id).returncode != 0
    assert open("/proc/sys/vm/swappiness").read() == swappiness


@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_mount_destination_symlink_stays_inside_rootfs(runtime, link):
    container_id, bundle = runtime.new_bundle(["sh", "-c", "touch /data/mnt/written; ls /data/mnt"])
    host_target = os.path.join(bundle.path, "host-target")
    os.makedirs(host_target)
    # A dangling symlink in the image that, followed on the host, names a host directory.
    target = host_target if link == "absolute" else "../host-target"
    os.symlink(target, os.path.join(bundle.rootfs, "data"))
    bundle.config["mounts"].append({"destination": "/data/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]})
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "written\n"
    assert os.listdir(host_target) == []
    inside = host_target.lstrip("/") if link == "absolute" else "host-target"
    assert os.path.isdir(os.path.join(bundle.rootfs, inside, "mnt"))
