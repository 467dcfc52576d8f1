"""Replication through the durable queue: `berth-registry serve --replicate-to` to Berth's and
Debian's registries (one of them down during the pushes), the stand-alone `replicate`
forwarder fed by docker-registry's notifications, and `kill -9` of the source mid-stream."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from serverlib import DistributionRegistry, Server, binary, make_oci_layout, request, skopeo


class ReplicatingServer(Server):
    def __init__(self, destinations, **kw):
        super().__init__(**kw)
        self.destinations = destinations

    def command(self):
        cmd = super().command()
        for name, url in self.destinations:
            cmd += ["--replicate-to", f"{name}={url}"]
        return cmd + ["--replication-backoff-max", "1"]


def status(queue_args):
    r = subprocess.run([binary("berth-registry"), "replication", "status", "--json", *queue_args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return {s["name"]: s for s in json.loads(r.stdout)}


def wait_synced(queue_args, names, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        current = status(queue_args)
        if all(n in current and current[n]["pendingEvents"] == 0 for n in names):
            return current
        time.sleep(0.2)
    raise AssertionError(f"not in sync: {status(queue_args)}")


def tags(registry, repo):
    code, _, body = request("GET", f"{registry.url}/v2/{repo}/tags/list")
    if code == 404:
        return {}
    listed = json.loads(body).get("tags") or []
    out = {}
    for t in listed:
        _, headers, _ = request("HEAD", f"{registry.url}/v2/{repo}/manifests/{t}",
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        out[t] = headers["Docker-Content-Digest"]
    return out


@pytest.fixture
def servers():
    made = []
    yield made
    for s in made:
        s.cleanup()


def test_pushes_reach_every_destination_including_one_that_was_down(servers, tmp_path):
    if not shutil.which("docker-registry"):
        pytest.skip("Debian's docker-registry is not installed (scripts/install-deps.sh)")
    b = Server()
    c = DistributionRegistry()
    servers += [b, c]
    b.start()
    source = ReplicatingServer([("b", b.url), ("c", c.url)])
    servers.append(source)
    source.start()
    layouts = []
    for i in range(3):
        d = str(tmp_path / f"l{i}")
        make_oci_layout(d, layer_sizes=((32 << 10, False),))
        layouts.append(d)
        skopeo("copy", "--dest-tls-verify=false", f"oci:{d}:latest", f"docker://{source.address}/team/app{i % 2}:v{i}")
    wanted = {repo: tags(source, repo) for repo in ("team/app0", "team/app1")}
    assert wanted["team/app0"] and wanted["team/app1"]
    # b is up and gets everything; c was never started, so its lag grows and shows an error.
    wait_synced(["--root", source.root], ["b"])
    assert {repo: tags(b, repo) for repo in wanted} == wanted
    pending = status(["--root", source.root])["c"]
    assert pending["pendingEvents"] > 0 and pending["lastError"], pending
    c.start()
    wait_synced(["--root", source.root], ["c"])
    assert {repo: tags(c, repo) for repo in wanted} == wanted
    # A tag deleted at the source goes away everywhere (docker-registry cannot delete tags:
    # the manifest is removed and sent back with the tags it keeps).
    assert request("DELETE", f"{source.url}/v2/team/app0/manifests/v0")[0] == 202
    wait_synced(["--root", source.root], ["b", "c"])
    for r in (b, c):
        assert tags(r, "team/app0") == tags(source, "team/app0") == {"v2": wanted["team/app0"]["v2"]}
    # Replaying the whole queue changes nothing.
    for name in ("b", "c"):
        subprocess.run([binary("berth-registry"), "replication", "rewind", "--root", source.root, name], check=True, timeout=30)
    wait_synced(["--root", source.root], ["b", "c"])
    for r in (b, c):
        assert {repo: tags(r, repo) for repo in wanted} == {repo: tags(source, repo) for repo in wanted}
    code, _, body = request("GET", f"{source.url}/metrics")
    assert code == 200 and b'berth_replication_pending_events{destination="c"} 0' in body


def test_kill_9_of_the_source_loses_nothing(servers, tmp_path):
    b = Server()
    servers.append(b)
    b.start()
    source = ReplicatingServer([("b", b.url)])
    servers.append(source)
    source.start()
    for i in range(4):
        d = str(tmp_path / f"l{i}")
        make_oci_layout(d, layer_sizes=((16 << 10, False),))
        skopeo("copy", "--dest-tls-verify=false", f"oci:{d}:latest", f"docker://{source.address}/kill/app:v{i}")
        source.kill9()
        source.start()
    wait_synced(["--root", source.root], ["b"])
    assert tags(b, "kill/app") == tags(source, "kill/app") and len(tags(source, "kill/app")) == 4


def test_stand_alone_forwarder_from_docker_registry_notifications(servers, tmp_path):
    if not shutil.which("docker-registry"):
        pytest.skip("Debian's docker-registry is not installed (scripts/install-deps.sh)")
    from serverlib import free_port
    port = free_port()

    class Notifying(DistributionRegistry):
        def command(self):
            cmd = super().command()
            with open(cmd[-1], "a") as f:
                f.write(f"notifications:\n  endpoints:\n    - name: berth\n      url: http://127.0.0.1:{port}/events\n"
                        "      timeout: 2s\n      threshold: 3\n      backoff: 1s\n")
            return cmd

    b = Server()
    src = Notifying()
    servers += [b, src]
    b.start()
    src.start()
    state = str(tmp_path / "state")
    forwarder = subprocess.Popen([binary("berth-registry"), "replicate", "--source", src.url, "--listen", f"127.0.0.1:{port}",
                                  "--state", state, "--to", f"b={b.url}", "--replication-backoff-max", "1"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        d = str(tmp_path / "l")
        make_oci_layout(d, layer_sizes=((16 << 10, False),))
        skopeo("copy", "--dest-tls-verify=false", f"oci:{d}:latest", f"docker://{src.address}/side/app:v1")
        deadline = time.time() + 60
        while time.time() < deadline and tags(b, "side/app") != tags(src, "side/app"):
            time.sleep(0.2)
        assert tags(b, "side/app") == tags(src, "side/app") and tags(b, "side/app")
        code, _, body = request("POST", f"http://127.0.0.1:{port}/events", body=b"{not json")
        assert code == 400 and b"events envelope" in body
    finally:
        forwarder.kill()
        forwarder.wait(timeout=10)


@pytest.mark.parametrize("spec, message", [
    ("nourl", 'no "="'),
    ("b=http://127.0.0.1:1/path", "without a path"),
    ("b=http://127.0.0.1:1,fast", 'unknown option "fast"'),
    ("b/c=http://127.0.0.1:1", "a name is letters"),
])
def test_bad_replicate_to_is_refused_before_anything_is_stored(tmp_path, spec, message):
    root = tmp_path / "root"
    r = subprocess.run([binary("berth-registry"), "serve", "--addr", "127.0.0.1:0", "--root", str(root), "--replicate-to", spec],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and message in r.stderr, r.stderr
    assert not root.exists()


def test_duplicate_destination_names_are_refused(tmp_path):
    r = subprocess.run([binary("berth-registry"), "serve", "--root", str(tmp_path / "r"), "--replicate-to", "b=http://127.0.0.1:1",
                        "--replicate-to", "b=http://127.0.0.1:2"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "names must differ" in r.stderr


def test_status_and_rewind_without_a_queue_or_destination_say_so(tmp_path):
    r = subprocess.run([binary("berth-registry"), "replication", "status", "--root", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "no replication queue" in r.stderr
    assert not (tmp_path / "replication.db").exists()
    b = Server()
    try:
        b.start()
        source = ReplicatingServer([("b", b.url)], root=str(tmp_path / "src"))
        source.start()
        source.stop()
        r = subprocess.run([binary("berth-registry"), "replication", "rewind", "--root", source.root, "nope"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "no destination named nope" in r.stderr
        source.cleanup()
    finally:
        b.cleanup()
