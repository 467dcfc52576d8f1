"""Interactive `docker run -it` and `docker exec -it` through a real pseudo-terminal."""
import os
import time

import pexpect


def spawn(daemon, command):
    env = dict(os.environ, DOCKER_HOST=daemon.host)
    child = pexpect.spawn(command, env=env, timeout=20)
    child.setwinsize(30, 100)
    return child


def test_interactive_shell(daemon):
    child = spawn(daemon, "docker run --rm -it busybox sh")
    child.expect(r"# ")
    child.sendline("echo $((40+2))")
    child.expect("42")
    child.sendline("stty size")
    child.expect("30 100")
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3


def test_exec_interactive(daemon):
    cid = daemon.docker("run", "-d", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    try:
        child = spawn(daemon, f"docker exec -it {cid} sh")
        child.expect(r"# ")
        child.sendline("tty")
        child.expect("/dev/pts/")
        child.sendline("exit")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        daemon.docker("rm", "-f", cid)
