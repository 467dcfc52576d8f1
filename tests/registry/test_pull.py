"""Pulling images from registries through berthd: `docker pull` / `docker run` (the real CLI),
docker-py and `berth`, from Debian's docker-registry (anonymous, basic auth, token auth) and from
a registry that misbehaves on purpose. Docker's output, exit codes and API errors are the spec.

Every failed pull must exit non-zero with a message naming the problem, leave `docker images`
as it was and leave no blob in the content store whose bytes do not hash to its name; where it
makes sense a good pull of the same reference works right after."""
import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from .conftest import (DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, PASSWORD, USER, Dir, free_port,
                       make_oci_layout, sha256_digest, whiteout)

MARKER = b"v2\n"


# ---------------------------------------------------------------------------------------------
# helpers


def text(r):
    return (r.stdout + r.stderr).decode(errors="replace")


def image_list(daemon):
    r = daemon.docker("images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
    assert r.returncode == 0, r.stderr
    return sorted(r.stdout.decode().splitlines())


def inspect(daemon, ref):
    r = daemon.docker("image", "inspect", ref)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)[0]


def assert_store_sound(daemon):
    """No blob in berthd's content store under a digest its bytes do not have."""
    blobs = os.path.join(daemon.root, "content", "blobs", "sha256")
    for name in os.listdir(blobs) if os.path.isdir(blobs) else []:
        h = hashlib.sha256()
        with open(os.path.join(blobs, name), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        assert h.hexdigest() == name, f"content store holds sha256:{name} with other bytes"


def pull(daemon, ref, *flags, timeout=120):
    r = daemon.docker("pull", *flags, ref, timeout=timeout)
    assert r.returncode == 0, f"docker pull {ref} exited {r.returncode}: {text(r)}"
    return r.stdout.decode()


def without_names(message, ref):
    """The message without the image reference and repository name (test repositories are named
    after their tests, whose names hold the very words the assertions look for)."""
    repository = re.match(r"[^/]+/([^:@]+)", ref)[1]
    message = re.sub(r"127\.0\.0\.1:\d+/[^\s\"':@]*", "<ref>", message)
    return message.replace(repository, "<repo>")


def assert_pull_fails(daemon, ref, pattern, *flags):
    """`docker pull` exits non-zero with an error matching `pattern` (case-insensitive; the
    reference itself does not count) and leaves the image list and the content store as they
    were."""
    before = image_list(daemon)
    try:
        r = daemon.docker("pull", *flags, ref, timeout=30)
    except subprocess.TimeoutExpired as e:
        r, shown = None, (e.stdout or b"").decode(errors="replace")[-300:]
    if r is None:
        pytest.fail(f"docker pull {ref} hung: {shown!r} (the CLI prompts for a login, and waits, when the daemon "
                    "answers a pull with HTTP 401; docker answers 404 'pull access denied …' or 500 instead)",
                    pytrace=False)
    message = r.stderr.decode(errors="replace")
    assert r.returncode != 0, f"docker pull {ref} succeeded: {text(r)}"
    assert re.search(pattern, without_names(message, ref), re.I), f"error does not match /{pattern}/: {message}"
    assert image_list(daemon) == before
    assert daemon.docker("image", "inspect", ref).returncode != 0
    assert_store_sound(daemon)
    return message


def layered_layout(directory, busybox_tar, tag="1", **kwargs):
    """3 layers: busybox; 300 small files, /marker v1, /etc/kept, /etc/removed, a random
    /etc/test-id; then /marker replaced by v2 and /etc/removed deleted through an OCI whiteout."""
    files = {"data": Dir()}
    files.update({f"data/f{i:03d}": f"file {i}\n" for i in range(300)})
    files.update({"marker": b"v1\n", "etc/kept": b"kept\n", "etc/removed": b"remove me\n",
                  "etc/test-id": os.urandom(8).hex()})  # an image of its own: no other test has its ID
    top = {"marker": MARKER, whiteout("etc/removed"): b""}
    return make_oci_layout(directory, [busybox_tar, files, top], tag=tag, **kwargs)


def small_layout(directory, busybox_tar, tag="1", size=256 * 1024, **kwargs):
    """busybox, then one layer of its own: /marker and `size` random bytes in /unique.bin (so
    its blob is not shared with any other test and can be tampered with alone)."""
    return make_oci_layout(directory, [busybox_tar, {"marker": MARKER, "unique.bin": os.urandom(size)}],
                           tag=tag, **kwargs)


def assert_runs_marker(daemon, ref):
    r = daemon.docker("run", "--rm", ref, "cat", "/marker")
    assert r.returncode == 0 and r.stdout == MARKER, text(r)


# ---------------------------------------------------------------------------------------------
# docker-registry, anonymous


def test_pull_multi_layer_oci_image(daemon, registry, busybox_tar, workdir, repo):
    layout = layered_layout(workdir, busybox_tar)
    digest = registry.push_layout(layout, repo)
    assert digest == layout.manifest_digest
    ref = registry.ref(repo)
    out = pull(daemon, ref)
    assert "Pull complete" in out
    assert f"Digest: {digest}" in out
    assert f"Status: Downloaded newer image for {ref}" in out
    r = daemon.docker("run", "--rm", ref, "sh", "-c",
                      "cat /marker; ls /data | wc -l; cat /data/f123 /etc/kept; "
                      "test -e /etc/removed && echo present || echo gone")
    assert r.returncode == 0, text(r)
    assert r.stdout == b"v2\n300\nfile 123\nkept\ngone\n"
    info = inspect(daemon, ref)
    assert info["Id"] == layout.config_digest
    assert info["RepoTags"] == [ref]
    assert info["RepoDigests"] == [f"{registry.host}/{repo}@{digest}"]
    assert info["RootFS"]["Layers"] == layout.diff_ids
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    assert_store_sound(daemon)


def test_pull_again_is_up_to_date(daemon, registry, busybox_tar, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    pull(daemon, ref)
    listed = image_list(daemon)
    out = pull(daemon, ref)
    assert f"Status: Image is up to date for {ref}" in out
    assert f"Digest: {layout.manifest_digest}" in out
    assert image_list(daemon) == listed


def test_pull_by_digest(daemon, registry, busybox_tar, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    digest = registry.push_layout(layout, repo)
    ref = f"{registry.host}/{repo}@{digest}"
    out = pull(daemon, ref)
    assert f"Status: Downloaded newer image for {ref}" in out
    info = inspect(daemon, ref)
    assert info["Id"] == layout.config_digest
    assert info["RepoDigests"] == [ref]
    assert info["RepoTags"] == []  # a pull by digest tags nothing
    assert_runs_marker(daemon, ref)


def test_pull_docker_schema2_image(daemon, registry, busybox_tar, workdir, repo):
    layout = layered_layout(workdir, busybox_tar)
    digest = registry.push_layout(layout, repo, format="v2s2")
    manifest = json.loads(registry.inspect(repo, raw=True))
    assert manifest["mediaType"] == DOCKER_MANIFEST and digest != layout.manifest_digest
    ref = registry.ref(repo)
    out = pull(daemon, ref)
    assert f"Digest: {digest}" in out
    assert f"Status: Downloaded newer image for {ref}" in out
    info = inspect(daemon, ref)
    assert info["Id"] == layout.config_digest  # same config bytes, other manifest format
    assert info["RepoDigests"] == [f"{registry.host}/{repo}@{digest}"]
    assert info["RootFS"]["Layers"] == layout.diff_ids
    assert_runs_marker(daemon, ref)


def test_pull_zstd_and_uncompressed_layers(daemon, registry, busybox_tar, workdir, repo):
    layout = make_oci_layout(workdir, [busybox_tar, {"marker": b"v1\n", "z": b"zstd layer\n"},
                                       {"marker": MARKER, "id": os.urandom(8).hex()}],
                             compression=["gzip", "zstd", "none"])
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    pull(daemon, ref)
    r = daemon.docker("run", "--rm", ref, "cat", "/marker", "/z")
    assert r.returncode == 0 and r.stdout == b"v2\nzstd layer\n", text(r)
    assert inspect(daemon, ref)["RootFS"]["Layers"] == layout.diff_ids


def test_multi_arch_index_gives_linux_amd64(daemon, registry, busybox_tar, workdir, repo):
    layout = make_oci_layout(workdir, [busybox_tar], platforms=[("linux", "arm64"), ("linux", "amd64")],
                             config_overrides={"config": {"Labels": {"test": repo}}})
    digest = registry.push_layout(layout, repo)
    assert digest == layout.index_digest
    ref = registry.ref(repo)
    out = pull(daemon, ref)
    assert f"Digest: {digest}" in out
    info = inspect(daemon, ref)
    amd64 = layout.images[("linux", "amd64")]
    assert info["Id"] == amd64.config_digest
    assert info["Architecture"] == "amd64"
    assert info["RepoDigests"] == [f"{registry.host}/{repo}@{digest}"]
    assert info["RootFS"]["Layers"] == amd64.diff_ids
    r = daemon.docker("run", "--rm", ref, "cat", "/platform")
    assert r.stdout == b"linux/amd64\n", text(r)


def test_pull_platform_linux_arm64(daemon, registry, busybox_tar, workdir, repo):
    layout = make_oci_layout(workdir, [busybox_tar], platforms=[("linux", "amd64"), ("linux", "arm64")],
                             config_overrides={"config": {"Labels": {"test": repo}}})
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    pull(daemon, ref, "--platform", "linux/arm64")
    info = inspect(daemon, ref)
    arm64 = layout.images[("linux", "arm64")]
    assert info["Id"] == arm64.config_digest
    assert info["Architecture"] == "arm64"
    assert "BERTH_TEST_PLATFORM=linux/arm64" in info["Config"]["Env"]


def test_berth_pull_without_a_terminal(daemon, registry, busybox_tar, workdir, repo):
    layout = layered_layout(workdir, busybox_tar)
    digest = registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    r = daemon.berth("pull", ref, timeout=120)
    assert r.returncode == 0, text(r)
    out = r.stdout.decode()
    assert f"Digest: {digest}" in out
    assert f"Status: Downloaded newer image for {ref}" in out
    assert "\x1b[" not in out and "\r" not in out  # plain lines, no cursor movement
    assert len(out.splitlines()) >= 2 + len(layout.layer_digests)
    assert inspect(daemon, ref)["Id"] == layout.config_digest


def test_berth_run_pulls_a_missing_image(daemon, registry, busybox_tar, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    assert daemon.docker("image", "inspect", ref).returncode != 0
    r = daemon.berth("run", "--rm", ref, "cat", "/marker", timeout=120)
    assert r.returncode == 0, text(r)
    assert r.stdout.endswith(MARKER)
    assert inspect(daemon, ref)["Id"] == layout.config_digest


def test_docker_run_pulls_a_missing_image(daemon, registry, busybox_tar, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    r = daemon.docker("run", "--rm", ref, "cat", "/marker", timeout=120)
    assert r.returncode == 0, text(r)
    assert f"Unable to find image '{ref}' locally" in r.stderr.decode()
    assert r.stdout == MARKER
    assert inspect(daemon, ref)["Id"] == layout.config_digest


def test_docker_py_pull_returns_the_image(daemon, registry, busybox_tar, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    client = daemon.client()
    try:
        image = client.images.pull(f"{registry.host}/{repo}", tag="1")
        assert image.id == layout.config_digest
        assert image.tags == [registry.ref(repo)]
    finally:
        client.close()


def test_pull_of_an_unknown_tag(daemon, registry, busybox_tar, workdir, repo):
    import docker
    registry.push_layout(small_layout(workdir, busybox_tar), repo)
    ref = registry.ref(repo, "nope")
    message = assert_pull_fails(daemon, ref, "manifest unknown")
    assert "not found" in message
    client = daemon.client()
    try:
        with pytest.raises(docker.errors.NotFound):
            client.images.pull(f"{registry.host}/{repo}", tag="nope")
    finally:
        client.close()


def test_pull_from_a_port_where_nothing_listens(daemon):
    assert_pull_fails(daemon, f"127.0.0.1:{free_port()}/t/nothing:1", r"connection refused")


# ---------------------------------------------------------------------------------------------
# docker-registry with authentication


def login(daemon, host, password, config):
    return daemon.docker("login", host, "-u", USER, "--password-stdin", input=password.encode(),
                         env={"DOCKER_CONFIG": config})


# What the daemon says (docker's: "no basic auth credentials", "pull access denied for …,
# repository does not exist or may require 'docker login': denied: …"). The CLI's own words
# ("Cannot perform an interactive login…", printed when the daemon answers a pull with HTTP 401
# and the CLI tries to prompt) do not count.
NO_CREDENTIALS = r"Error response from daemon: .*(unauthori[sz]ed|authentication required|no basic auth credentials|denied)"


def test_login_with_basic_auth(daemon, basic_registry, docker_config):
    r = login(daemon, basic_registry.host, "wrong-password", docker_config)
    assert r.returncode != 0, text(r)
    assert re.search(r"unauthori[sz]ed|incorrect", r.stderr.decode(), re.I), text(r)
    r = login(daemon, basic_registry.host, PASSWORD, docker_config)
    assert r.returncode == 0, text(r)
    assert "Login Succeeded" in r.stdout.decode()
    with open(os.path.join(docker_config, "config.json")) as f:
        assert basic_registry.host in json.load(f)["auths"]


def test_pull_with_basic_auth(daemon, basic_registry, busybox_tar, docker_config, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    basic_registry.push_layout(layout, repo)
    other = small_layout(os.path.join(workdir, "other"), busybox_tar)
    basic_registry.push_layout(other, repo + "-other")
    ref = basic_registry.ref(repo)
    assert_pull_fails(daemon, ref, NO_CREDENTIALS)  # the daemon's private DOCKER_CONFIG is empty
    r = login(daemon, basic_registry.host, PASSWORD, docker_config)
    assert r.returncode == 0, text(r)
    r = daemon.docker("pull", ref, env={"DOCKER_CONFIG": docker_config}, timeout=120)
    assert r.returncode == 0, text(r)
    assert f"Status: Downloaded newer image for {ref}" in r.stdout.decode()
    assert inspect(daemon, ref)["Id"] == layout.config_digest
    assert_runs_marker(daemon, ref)
    # The daemon keeps no credentials of its own: a client without them is still refused.
    assert_pull_fails(daemon, basic_registry.ref(repo + "-other"), NO_CREDENTIALS)


def test_token_auth_anonymous_pull_of_a_public_repository(daemon, token_registry, busybox_tar, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    public = "public/" + repo.split("/", 1)[1]
    token_registry.push_layout(layout, public)
    ref = token_registry.ref(public)
    out = pull(daemon, ref)
    assert f"Status: Downloaded newer image for {ref}" in out
    assert inspect(daemon, ref)["Id"] == layout.config_digest
    anonymous = [q for method, q, user, status in token_registry.token_server.requests
                 if user is None and status == 200 and any(public in s for s in q.get("scope", []))]
    assert anonymous, "berthd did not fetch an anonymous token for the public repository"


def test_token_auth_private_repository_needs_login(daemon, token_registry, busybox_tar, docker_config, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    token_registry.push_layout(layout, repo)
    other = small_layout(os.path.join(workdir, "other"), busybox_tar)
    token_registry.push_layout(other, repo + "-other")
    ref = token_registry.ref(repo)
    assert_pull_fails(daemon, ref, NO_CREDENTIALS)
    r = login(daemon, token_registry.host, "wrong-password", docker_config)
    assert r.returncode != 0, text(r)
    assert re.search(r"unauthori[sz]ed|incorrect", r.stderr.decode(), re.I), text(r)
    r = login(daemon, token_registry.host, PASSWORD, docker_config)
    assert r.returncode == 0 and "Login Succeeded" in r.stdout.decode(), text(r)
    r = daemon.docker("pull", ref, env={"DOCKER_CONFIG": docker_config}, timeout=120)
    assert r.returncode == 0, text(r)
    assert inspect(daemon, ref)["Id"] == layout.config_digest
    assert any(user == USER for _, _, user, _ in token_registry.token_server.requests)
    # Tokens fetched for one client are not handed to another.
    assert_pull_fails(daemon, token_registry.ref(repo + "-other"), NO_CREDENTIALS)


# ---------------------------------------------------------------------------------------------
# docker-registry with tampered storage


@pytest.mark.parametrize("tamper, named", [("corrupt_blob", r"digest"), ("truncate_blob", r"size")])
def test_tampered_blob_is_refused(daemon, registry, busybox_tar, workdir, repo, tamper, named):
    """A stored layer with other bytes (same length) fails on its digest, a cut one on its size;
    once the registry has the right bytes again the same pull works."""
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    getattr(registry, tamper)(layout.layer_digests[-1])
    try:
        assert_pull_fails(daemon, ref, named)
    finally:
        registry.restore_blob(layout.layer_digests[-1])
    pull(daemon, ref)
    assert_runs_marker(daemon, ref)


# ---------------------------------------------------------------------------------------------
# a registry that misbehaves


def served(hostile, workdir, busybox_tar, repo, **kwargs):
    layout = small_layout(workdir, busybox_tar, **kwargs)
    hostile.serve_layout(layout, repo)
    return layout, hostile.ref(repo)


def good_pull_after_fix(daemon, hostile, layout, repo, ref):
    hostile.serve_layout(layout, repo)
    out = pull(daemon, ref)
    assert f"Status: Downloaded newer image for {ref}" in out
    assert inspect(daemon, ref)["Id"] == layout.config_digest
    assert_runs_marker(daemon, ref)


def test_hostile_blob_with_wrong_bytes(daemon, hostile, busybox_tar, workdir, repo):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    hostile.corrupt_blob(repo, layout.layer_digests[-1])
    assert_pull_fails(daemon, ref, r"digest")
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


def test_hostile_body_cut_short(daemon, hostile, busybox_tar, workdir, repo):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    hostile.cut_blob(repo, layout.layer_digests[-1])
    assert_pull_fails(daemon, ref, r"EOF|short|size|incomplete|closed|truncated|cut off")
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


def test_hostile_manifest_with_a_missing_layer(daemon, hostile, busybox_tar, workdir, repo):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    hostile.remove_blob(repo, layout.layer_digests[-1])
    assert_pull_fails(daemon, ref, r"unknown")
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


@pytest.mark.parametrize("via_other", [False, True], ids=["to-itself", "a-b-a"])
def test_hostile_redirect_loop(daemon, hostile, busybox_tar, workdir, repo, via_other):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    blob = layout.layer_digests[-1]
    hostile.redirect_loop(repo, blob, via_other=via_other)
    assert_pull_fails(daemon, ref, r"redirect")
    hops = len(hostile.requests_for(blob.split(":", 1)[1]))
    assert hops <= 64, f"berthd followed {hops} redirects"
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


@pytest.mark.parametrize("size,chunked", [(5 << 20, False), (100 << 20, True)], ids=["5MiB", "100MiB-chunked"])
def test_hostile_huge_manifest(daemon, hostile, busybox_tar, workdir, repo, size, chunked):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    hostile.huge_manifest(repo, "1", size, chunked=chunked)
    assert_pull_fails(daemon, ref, r"too large|exceed")
    sent = hostile.bytes_sent(f"/v2/{repo}/manifests/")
    assert sent < 32 << 20, f"berthd read {sent} bytes of a {size}-byte manifest"
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


def test_hostile_content_type_differs_from_media_type(daemon, hostile, busybox_tar, workdir, repo):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    # The body says OCI manifest, the response says Docker schema 2.
    hostile.put_manifest(repo, "1", layout.document, DOCKER_MANIFEST)
    assert_pull_fails(daemon, ref, r"media ?type|content-?type")
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


@pytest.mark.parametrize("served_as", [OCI_INDEX, OCI_MANIFEST], ids=["as-index", "as-manifest"])
def test_hostile_document_with_manifests_and_layers(daemon, hostile, busybox_tar, workdir, repo, served_as):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    manifest = json.loads(layout.document)
    ambiguous = {"schemaVersion": 2, "config": manifest["config"], "layers": manifest["layers"],
                 "manifests": [{"mediaType": OCI_MANIFEST, "digest": layout.manifest_digest,
                                "size": len(layout.document), "platform": {"architecture": "amd64", "os": "linux"}}]}
    hostile.put_manifest(repo, "1", json.dumps(ambiguous).encode(), served_as)  # no mediaType field
    assert_pull_fails(daemon, ref, r"ambiguous|both")
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


def test_hostile_docker_content_digest_header_does_not_match(daemon, hostile, busybox_tar, workdir, repo):
    layout, ref = served(hostile, workdir, busybox_tar, repo)
    hostile.put_manifest(repo, "1", layout.document, OCI_MANIFEST, digest_header=sha256_digest(b"something else"))
    assert_pull_fails(daemon, ref, r"digest")
    good_pull_after_fix(daemon, hostile, layout, repo, ref)


def test_hostile_manifest_by_digest_with_other_bytes(daemon, hostile, busybox_tar, workdir, repo):
    layout, _ = served(hostile, workdir, busybox_tar, repo)
    other = small_layout(os.path.join(workdir, "other"), busybox_tar)
    hostile.serve_layout(other, repo, tag="other")
    # Asked for the first manifest by digest, the registry answers with the other one (whose
    # blobs it has), claiming the requested digest in its header.
    hostile.put_manifest(repo, layout.manifest_digest, other.document, OCI_MANIFEST,
                         digest_header=layout.manifest_digest, also_by_digest=False)
    ref = f"{hostile.host}/{repo}@{layout.manifest_digest}"
    assert_pull_fails(daemon, ref, r"digest")
    assert daemon.docker("image", "inspect", other.config_digest).returncode != 0


# ---------------------------------------------------------------------------------------------
# kill -9 of the daemon during a pull


def ingest_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def test_daemon_killed_mid_pull_leaves_no_image(fresh_daemon, hostile, busybox_tar, workdir):
    d = fresh_daemon
    size = 64 << 20
    layout = make_oci_layout(workdir, [busybox_tar, {"big.bin": os.urandom(size)}], gzip_level=1)
    repo = "t/killed-mid-pull"
    big = layout.layer_digests[-1]
    hostile.serve_layout(layout, repo)
    hostile.throttle_blob(repo, big, 8 << 20)  # the big layer takes ~8 s
    ref = hostile.ref(repo)
    before = image_list(d)
    ingest = os.path.join(d.root, "content", "ingest")
    p = d.docker_popen("pull", ref)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None and ingest_bytes(ingest) < (4 << 20):
            time.sleep(0.02)
        in_flight = ingest_bytes(ingest)
        d.kill9()
    finally:
        try:
            out, err = p.communicate(timeout=30)
        except Exception:
            p.kill()
            out, err = p.communicate()
    assert in_flight >= 4 << 20, (f"no pull data reached {ingest} before the pull ended: "
                                  f"{(out + err).decode(errors='replace')}")
    d.start()
    assert image_list(d) == before
    assert d.docker("image", "inspect", ref).returncode != 0
    hostile.throttle_blob(repo, big, None)
    out = pull(d, ref, timeout=240)
    assert f"Status: Downloaded newer image for {ref}" in out
    # The second pull resumed the big blob where the ingest had stopped (distribution-spec
    # "Resumable Pull"), and the registry answered with a part (206).
    resumed = [r for r in hostile.requests_for(big, "GET") if r["headers"].get("Range", "").startswith("bytes=")]
    assert resumed, "the big blob was downloaded again from its start"
    first = int(resumed[0]["headers"]["Range"].split("=")[1].rstrip("-"))
    assert first >= 4 << 20 and resumed[0]["status"] == 206
    r = d.docker("run", "--rm", ref, "wc", "-c", "/big.bin")
    assert r.returncode == 0 and r.stdout.split()[0] == str(size).encode(), text(r)
    assert_store_sound(d)


def test_full_disk_fails_cleanly_and_a_smaller_image_still_pulls(small_disk_daemon, registry, busybox_tar, workdir, repo):
    d = small_disk_daemon
    fits = small_layout(os.path.join(workdir, "fits"), busybox_tar)
    registry.push_layout(fits, repo + "-fits")
    pull(d, registry.ref(repo + "-fits"))
    before = image_list(d)
    # 64 MiB of random bytes cannot fit in 48 MiB, compressed or not.
    too_big = make_oci_layout(os.path.join(workdir, "big"), [busybox_tar, {"big.bin": os.urandom(64 << 20)}], gzip_level=1)
    registry.push_layout(too_big, repo)
    r = d.docker("pull", registry.ref(repo), timeout=120)
    assert r.returncode != 0
    assert re.search("no space left on device", text(r), re.I), text(r)
    assert image_list(d) == before
    assert_store_sound(d)
    assert_runs_marker(d, registry.ref(repo + "-fits"))


def test_two_pulls_of_the_same_image_at_once(fresh_daemon, hostile, busybox_tar, workdir):
    d = fresh_daemon
    layout = make_oci_layout(workdir, [busybox_tar, {"big.bin": os.urandom(16 << 20)}], gzip_level=1)
    repo = "t/two-at-once"
    big = layout.layer_digests[-1]
    hostile.serve_layout(layout, repo)
    hostile.throttle_blob(repo, big, 16 << 20)  # about a second, so the pulls overlap
    ref = hostile.ref(repo)
    first, second = d.docker_popen("pull", ref), d.docker_popen("pull", ref)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs
    # The blob went over the wire once: the second pull waited for the first's download.
    assert len([r for r in hostile.requests_for(big, "GET") if r["status"] in (200, 206)]) == 1
    r = d.docker("run", "--rm", ref, "wc", "-c", "/big.bin")
    assert r.returncode == 0 and r.stdout.split()[0] == str(16 << 20).encode(), text(r)
    assert_store_sound(d)


def test_client_killed_mid_pull_leaves_a_sound_store(fresh_daemon, hostile, busybox_tar, workdir):
    # kill -9 of the client (the docker CLI) while berthd pulls: the daemon finishes or drops
    # the pull on its own; either way nothing half-made is visible and a new pull works.
    d = fresh_daemon
    layout = make_oci_layout(workdir, [busybox_tar, {"big.bin": os.urandom(24 << 20)}], gzip_level=1)
    repo = "t/client-killed"
    big = layout.layer_digests[-1]
    hostile.serve_layout(layout, repo)
    hostile.throttle_blob(repo, big, 12 << 20)  # about two seconds
    ref = hostile.ref(repo)
    before = image_list(d)
    p = d.docker_popen("pull", ref)
    deadline = time.time() + 30
    while time.time() < deadline and not hostile.requests_for(big, "GET"):
        time.sleep(0.02)
    p.kill()
    p.wait(timeout=10)
    # The daemon keeps serving, and what it lists is either the old list or the complete image.
    assert d.docker("version").returncode == 0
    after = image_list(d)
    assert after == before or d.docker("run", "--rm", ref, "wc", "-c", "/big.bin").returncode == 0
    assert_store_sound(d)
    hostile.throttle_blob(repo, big, None)
    pull(d, ref)
    r = d.docker("run", "--rm", ref, "wc", "-c", "/big.bin")
    assert r.returncode == 0 and r.stdout.split()[0] == str(24 << 20).encode(), text(r)
