import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from berth_testlib import Daemon, make_busybox_tar  # noqa: E402


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory):
    return make_busybox_tar(str(tmp_path_factory.mktemp("busybox")))


@pytest.fixture(scope="session")
def daemon(busybox_tar):
    d = Daemon()
    try:
        d.start()
        d.import_busybox(busybox_tar)
        yield d
    finally:
        d.cleanup()


@pytest.fixture
def fresh_daemon(busybox_tar):
    """A daemon of its own, for tests that kill or restart it."""
    d = Daemon()
    try:
        d.start()
        d.import_busybox(busybox_tar)
        yield d
    finally:
        d.cleanup()


RUNTIMES = ["berth", "runc"]


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    from berth_testlib import build_probe
    return build_probe(str(tmp_path_factory.mktemp("probe")))
