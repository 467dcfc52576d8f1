"""`berth` behaviour that needs no daemon: flag validation, exit codes, connection errors."""
import os
import pty
import subprocess

import pytest

from .conftest import BERTH


def test_bad_memory_flag_is_rejected_before_connecting(berth_cli):
    result = berth_cli("run", "-m", "lots", "busybox")
    assert result.returncode == 125
    assert result.stderr.decode().startswith(
        'invalid argument "lots" for "-m, --memory" flag: invalid size: \'lots\'\n'
    )
    assert "See 'berth run --help'." in result.stderr.decode()


@pytest.mark.parametrize("value,reason", [
    ("abc", "failed to parse abc as a rational number"),
    ("0.0000000001", "value is too precise"),
])
def test_bad_cpus_flag(berth_cli, value, reason):
    result = berth_cli("create", "--cpus", value, "busybox")
    assert result.returncode == 125
    assert f'invalid argument "{value}" for "--cpus" flag: {reason}' in result.stderr.decode()


@pytest.mark.parametrize("flags", [["-m", "64m"], ["-m", "1g"], ["-m", "512k"], ["-m", "100"], ["--cpus", "0.5"]])
def test_valid_values_get_as_far_as_the_daemon(berth_cli, flags):
    result = berth_cli("run", *flags, "busybox")
    assert result.returncode == 1
    assert "Cannot connect to the Berth daemon at unix:///nonexistent/berth-test.sock" in result.stderr.decode()


def test_unreachable_daemon_message_and_status(berth_cli):
    result = berth_cli("ps")
    assert result.returncode == 1
    message = result.stderr.decode()
    assert "Cannot connect to the Berth daemon at unix:///nonexistent/berth-test.sock" in message
    assert "Is berthd running?" in message


def test_host_flag_overrides_environment(berth_cli):
    result = berth_cli("-H", "unix:///nonexistent/other.sock", "images")
    assert result.returncode == 1
    assert "unix:///nonexistent/other.sock" in result.stderr.decode()
    result = berth_cli("--host=unix:///nonexistent/third.sock", "images")
    assert "unix:///nonexistent/third.sock" in result.stderr.decode()


def test_unsupported_host_scheme(berth_cli):
    result = berth_cli("-H", "tcp://127.0.0.1:2375", "ps")
    assert result.returncode == 1
    assert "only unix:///path is supported" in result.stderr.decode()


def test_unknown_flag_is_a_usage_error(berth_cli):
    result = berth_cli("ps", "--bogus")
    assert result.returncode == 125
    assert "See 'berth ps --help'." in result.stderr.decode()


def test_help_exits_zero(berth_cli):
    result = berth_cli("--help")
    assert result.returncode == 0
    for command in ["run", "ps", "images", "exec", "logs", "save", "load", "import"]:
        assert command in result.stdout.decode()
    result = berth_cli("run", "--help")
    assert result.returncode == 0
    assert "--memory" in result.stdout.decode()


def test_missing_env_file_is_an_engine_error(berth_cli, tmp_path):
    result = berth_cli("run", "--env-file", str(tmp_path / "absent"), "busybox")
    assert result.returncode == 125
    assert "No such file or directory" in result.stderr.decode()


def test_env_file_key_with_whitespace(berth_cli, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("GOOD=1\nBAD KEY=2\n")
    result = berth_cli("run", "--env-file", str(env_file), "busybox")
    assert result.returncode == 125
    assert "poorly formatted environment: variable 'BAD KEY' contains whitespaces" in result.stderr.decode()


def test_save_refuses_a_terminal(berth_cli):
    primary, secondary = pty.openpty()
    try:
        result = subprocess.run([str(BERTH), "save", "x"],
                                stdout=secondary, stderr=subprocess.PIPE, env=berth_cli.env(), timeout=30)
    finally:
        os.close(secondary)
        os.close(primary)
    assert result.returncode == 1
    assert "cowardly refusing to save to a terminal" in result.stderr.decode()


def test_exec_needs_a_command(berth_cli):
    result = berth_cli("exec", "somecontainer")
    assert result.returncode == 125
