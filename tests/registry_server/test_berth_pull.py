"""Berth's own pull client against Berth's registry server: an image pushed with skopeo is
pulled by berthd (`berth pull`) and runs."""
import gzip
import json
import os

import pytest

from serverlib import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Server, sha256, skopeo
from berth_testlib import Daemon, make_busybox_tar


def busybox_layout(directory, rootfs_tar):
    """An OCI layout of one image whose only layer is the busybox root filesystem."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        with open(os.path.join(blobs, sha256(data).split(":")[1]), "wb") as f:
            f.write(data)
        return {"digest": sha256(data), "size": len(data)}

    tar = open(rootfs_tar, "rb").read()
    layer = dict(put(gzip.compress(tar, compresslevel=1, mtime=0)), mediaType=OCI_LAYER)
    config = dict(put(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                                  "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]}}).encode()), mediaType=OCI_CONFIG)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}).encode()
    descriptor = dict(put(manifest), mediaType=OCI_MANIFEST, annotations={"org.opencontainers.image.ref.name": "latest"})
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [descriptor]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return descriptor["digest"]



def assert_pulls_and_runs(daemon, image, digest):
    """`berth pull` of `image` records the registry's manifest digest, and the image runs."""
    daemon.berth("pull", image, check=True, timeout=120)
    assert digest in daemon.berth("image", "inspect", "-f", "{{json .RepoDigests}}", image, check=True).stdout.decode()
    out = daemon.berth("run", "--rm", image, "echo", "pulled", check=True).stdout.decode()
    assert out.strip() == "pulled"


def test_berth_pulls_from_berth_registry_and_runs(server, tmp_path):
    if os.getuid() != 0:
        pytest.skip("berthd needs root")
    digest = busybox_layout(str(tmp_path / "layout"), make_busybox_tar(str(tmp_path)))
    image = f"{server.address}/tools/busybox:v1"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'layout'}:latest", f"docker://{image}")
    daemon = Daemon()
    try:
        daemon.start()
        assert_pulls_and_runs(daemon, image, digest)
    finally:
        daemon.cleanup()


def test_berth_pulls_over_tls_from_an_insecure_registry_address(tmp_path):
    # 127.0.0.1 is an insecure registry: plain HTTP is tried, the TLS server closes on it, and
    # the client goes on over HTTPS without checking the self-signed certificate (docker's rule).
    if os.getuid() != 0:
        pytest.skip("berthd needs root")
    from test_skopeo import make_certificate
    cert, key = make_certificate(str(tmp_path))
    server = Server(tls=(cert, key))
    daemon = Daemon()
    try:
        server.start()
        digest = busybox_layout(str(tmp_path / "layout"), make_busybox_tar(str(tmp_path)))
        image = f"{server.address}/secure/busybox:v1"
        skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'layout'}:latest", f"docker://{image}")
        daemon.start()
        assert_pulls_and_runs(daemon, image, digest)
    finally:
        daemon.cleanup()
        server.cleanup()
