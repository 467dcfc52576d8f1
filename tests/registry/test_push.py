"""Pushing images through berthd (`docker push`, `berth push`) to Debian's docker-registry:
the registry ends up holding exactly the local manifest (same digest), blobs it already has
are not sent again, blobs of another repository are mounted, large layers go up in chunks, and
a missing image or refused credentials fail with a clear message."""
import json
import os
import subprocess

from .conftest import PASSWORD, USER
from .test_pull import assert_runs_marker, inspect, small_layout, text


def local_manifest_digest(daemon, ref):
    """The repo digest berthd records for `ref` after a push."""
    digests = inspect(daemon, ref)["RepoDigests"]
    repository = ref.rsplit(":", 1)[0]
    mine = [d for d in digests if d.startswith(repository + "@")]
    assert mine, f"no repo digest for {repository} in {digests}"
    return mine[0].split("@", 1)[1]


def push(daemon, ref, tool="docker"):
    r = daemon.docker("push", ref) if tool == "docker" else daemon.berth("push", ref)
    assert r.returncode == 0, f"{tool} push {ref}: {text(r)}"
    return r.stdout.decode()


def test_docker_push_puts_the_local_manifest_and_pull_brings_it_back(daemon, registry, busybox_tar, workdir, repo):
    source = registry.ref(repo + "-src")
    registry.push_layout(small_layout(workdir, busybox_tar), repo + "-src")
    assert daemon.docker("pull", source).returncode == 0
    target = registry.ref(repo, tag="pushed")
    assert daemon.docker("tag", source, target).returncode == 0
    out = push(daemon, target)
    assert f"The push refers to repository [{target.rsplit(':', 1)[0]}]" in out
    digest = local_manifest_digest(daemon, target)
    assert f"pushed: digest: {digest} size: " in out
    # The registry serves byte for byte what berthd holds.
    remote = json.loads(subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{target}"],
                                       capture_output=True, check=True).stdout)
    assert remote["config"]["digest"] == inspect(daemon, target)["Id"]
    assert subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{target}"],
                          capture_output=True, check=True).stdout.decode().strip() == digest
    assert daemon.docker("rmi", target, source).returncode == 0
    assert_runs_marker(daemon, target)


def test_second_push_sends_nothing_again_and_other_repositories_mount(daemon, registry, busybox_tar, workdir, repo):
    source = registry.ref(repo + "-a")
    registry.push_layout(small_layout(workdir, busybox_tar), repo + "-a")
    assert daemon.docker("pull", source).returncode == 0
    again = push(daemon, source, tool="berth")
    assert "Layer already exists" in again and "Pushed" not in again
    other = registry.ref(repo + "-b")
    assert daemon.docker("tag", source, other).returncode == 0
    mounted = push(daemon, other)
    assert f"Mounted from {repo}-a" in mounted


def test_large_layer_goes_up_in_chunks(daemon, registry, workdir, repo, tmp_path):
    # 80 MB of random bytes: above the 64 MiB threshold for PATCH chunks.
    root = tmp_path / "root"
    root.mkdir()
    (root / "big.bin").write_bytes(os.urandom(80 << 20))
    tarball = tmp_path / "big.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
    ref = registry.ref(repo)
    assert daemon.berth("import", str(tarball), ref).returncode == 0
    out = push(daemon, ref, tool="berth")
    assert "Pushed" in out
    digest = local_manifest_digest(daemon, ref)
    remote = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{ref}"],
                            capture_output=True, check=True).stdout.decode().strip()
    assert remote == digest
    # The registry verified the chunked upload against its digest; pulling it back verifies again.
    assert daemon.docker("rmi", ref).returncode == 0
    assert daemon.docker("pull", ref).returncode == 0


def test_push_of_an_image_that_is_not_there(daemon, registry, repo):
    ref = registry.ref(repo, tag="absent")
    r = daemon.docker("push", ref)
    assert r.returncode != 0
    assert "An image does not exist locally with the tag" in text(r)


def test_push_needs_credentials_where_the_registry_asks(daemon, basic_registry, registry, busybox_tar, workdir, repo, docker_config):
    source = registry.ref(repo)
    registry.push_layout(small_layout(workdir, busybox_tar), repo)
    pulled = daemon.docker("pull", source)
    assert pulled.returncode == 0, text(pulled)
    target = basic_registry.ref(repo)
    assert daemon.docker("tag", source, target).returncode == 0
    env = {"DOCKER_CONFIG": docker_config}
    refused = daemon.docker("push", target, env=env)
    assert refused.returncode != 0 and "unauthorized" in text(refused).lower()
    login = daemon.docker("login", basic_registry.host, "-u", USER, "--password-stdin", input=PASSWORD.encode() + b"\n", env=env)
    assert login.returncode == 0, text(login)
    assert daemon.docker("push", target, env=env).returncode == 0
