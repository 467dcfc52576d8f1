import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server, make_oci_layout  # noqa: E402


@pytest.fixture
def server():
    s = Server()
    try:
        yield s.start()
    finally:
        s.cleanup()


@pytest.fixture(scope="session")
def image_layout(tmp_path_factory):
    """An OCI layout with a small two-layer image tagged `latest`: (path, manifest digest)."""
    path = str(tmp_path_factory.mktemp("layout"))
    return path, make_oci_layout(path)
