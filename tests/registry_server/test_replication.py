"""Replication through the durable queue: `berth-registry serve --replicate-to` to Berth's and
Debian's registries (one of them down during the pushes), the stand-alone `replicate`
forwarder fed by docker-registry's notifications, and `kill -9` of the source mid-stream."""
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

import pytest

from serverlib import DistributionRegistry, Postgres, RecordingProxy, Server, binary, free_port, make_oci_layout, request, skopeo


class ReplicatingServer(Server):
    def __init__(self, destinations, **kw):
        super().__init__(**kw)
        self.destinations = destinations

    def command(self):
        cmd = super().command()
        for name, url in self.destinations:
            cmd += ["--replicate-to", f"{name}={url}"]
        return cmd + ["--replication-backoff-max", "1"]


class SharedQueueSource(Server):
    """A source registry with its forwarder on a shared queue (`--queue URL`)."""

    def __init__(self, destinations, queue, extra=(), **kw):
        super().__init__(**kw)
        self.destinations, self.queue, self.extra = destinations, queue, list(extra)

    def command(self):
        cmd = super().command() + ["--queue", self.queue, "--replication-backoff-max", "1", *self.extra]
        for name, url in self.destinations:
            cmd += ["--replicate-to", f"{name}={url}"]
        return cmd


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


def metric(url, name, destination):
    """A counter or gauge of /metrics at `url` for `destination` (0 when absent)."""
    code, _, body = request("GET", f"{url}/metrics")
    assert code == 200, body
    for line in body.decode().splitlines():
        if line.startswith(f'{name}{{destination="{destination}"}} '):
            return float(line.split()[-1])
    return 0.0


def snapshot(registry):
    """Every repository of the catalog, its tags and their digests, and the digests of the
    blobs each tagged manifest references, each checked present with HEAD."""
    code, _, body = request("GET", f"{registry.url}/v2/_catalog?n=1000")
    assert code == 200, body
    out = {}
    for repo in json.loads(body).get("repositories") or []:
        listed = tags(registry, repo)
        if not listed:
            continue
        entry = {}
        for tag, digest in listed.items():
            code, _, manifest = request("GET", f"{registry.url}/v2/{repo}/manifests/{digest}",
                                        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
            assert code == 200
            doc = json.loads(manifest)
            blobs = sorted([doc["config"]["digest"]] + [layer["digest"] for layer in doc["layers"]])
            for blob in blobs:
                assert request("HEAD", f"{registry.url}/v2/{repo}/blobs/{blob}")[0] == 200, (registry.url, repo, blob)
            entry[tag] = (digest, blobs)
        out[repo] = entry
    return out


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


def forwarder(source_url, queue, state, destinations, extra=()):
    """A stand-alone `replicate` forwarder on the queue; its /metrics on the returned port."""
    port = free_port()
    cmd = [binary("berth-registry"), "replicate", "--source", source_url, "--listen", f"127.0.0.1:{port}", "--state", state,
           "--queue", queue, "--replication-backoff-max", "1", *extra]
    for name, url in destinations:
        cmd += ["--to", f"{name}={url}"]
    log = open(state + ".log", "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    log.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        assert proc.poll() is None, open(state + ".log").read()
        try:
            if request("GET", f"http://127.0.0.1:{port}/metrics", timeout=2)[0] == 200:
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the forwarder did not start: " + open(state + ".log").read())


def wait_shared(queue_url, names, timeout=90):
    return wait_synced(["--queue", queue_url], names, timeout)


@pytest.fixture
def postgres():
    if not Postgres.available():
        pytest.skip("Debian's postgresql is not installed (scripts/install-deps.sh)")
    pg = Postgres().start()
    yield pg
    pg.cleanup()


def test_two_forwarders_share_a_postgres_queue_through_repeated_kill_9(servers, postgres, tmp_path):
    b = Server()
    servers.append(b)
    b.start()
    targets = [b]
    if shutil.which("docker-registry"):
        c = DistributionRegistry()
        servers.append(c)
        c.start()
        targets.append(c)
    # Each destination behind a proxy that records when every request was in flight.
    proxies = [RecordingProxy(t.url) for t in targets]
    try:
        names = [f"d{i}" for i in range(len(targets))]
        dests = list(zip(names, [p.url for p in proxies]))
        tuning = ["--replication-parallel", "1", "--replication-lease", "5", "--replication-poll", "0.2"]
        source = SharedQueueSource(dests, postgres.url, extra=tuning)
        servers.append(source)
        source.start()
        state = str(tmp_path / "fwd2")
        second, second_url = forwarder(source.url, postgres.url, state, dests, extra=tuning)
        try:
            layouts = []
            for i in range(4):
                d = str(tmp_path / f"l{i}")
                make_oci_layout(d, layer_sizes=((16 << 10, False),))
                layouts.append(d)
            # Undisturbed: both forwarders deliver, and every event exactly once between them.
            for i in range(6):
                skopeo("copy", "--dest-tls-verify=false", f"oci:{layouts[i % 4]}:latest", f"docker://{source.address}/shared/r{i}:v1")
            wait_shared(postgres.url, names)
            events = int(postgres.sql("SELECT count(*) FROM berth_replication_events").strip())
            for name in names:
                total = metric(source.url, "berth_replication_delivered_events_total", name) + \
                    metric(second_url, "berth_replication_delivered_events_total", name)
                assert total == events, (name, total, events)
            # Repeated kill -9, at random moments, of the source (and its forwarder) or of the
            # stand-alone forwarder, while pushes go on.
            rng = random.Random(7)
            for i in range(8):
                d = layouts[i % 4]
                pushed = subprocess.Popen(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{d}:latest",
                                           f"docker://{source.address}/shared/k{i % 3}:v{i}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(rng.uniform(0.0, 0.3))
                if rng.random() < 0.5:
                    second.kill()
                    second.wait(timeout=10)
                    pushed.wait(timeout=120)
                    second, second_url = forwarder(source.url, postgres.url, state, dests, extra=tuning)
                else:
                    pushed.wait(timeout=120)
                    source.kill9()
                    source.start()
                if pushed.returncode != 0:  # the source died under this push: push again, as a client would
                    skopeo("copy", "--dest-tls-verify=false", f"oci:{d}:latest", f"docker://{source.address}/shared/k{i % 3}:v{i}")
            wait_shared(postgres.url, names)
            wanted = snapshot(source)
            assert len(wanted) == 9 and sum(len(t) for t in wanted.values()) == 14, wanted
            for t in targets:
                assert snapshot(t) == wanted, t.url
            for p in proxies:
                assert p.overlapping(("PUT", "POST")) == [], "a repository was delivered by two forwarders at once"
            # Replaying the whole queue changes nothing.
            for name in names:
                subprocess.run([binary("berth-registry"), "replication", "rewind", "--queue", postgres.url, name], check=True, timeout=30)
            wait_shared(postgres.url, names)
            for t in targets:
                assert snapshot(t) == wanted
        finally:
            second.kill()
            second.wait(timeout=10)
    finally:
        for p in proxies:
            p.cleanup()


def push_through_replication(servers, tmp_path, name, url, layer_size, reference):
    """A source replicating to `name`=`url`, with one image of one layer pushed to `reference`."""
    source = ReplicatingServer([(name, url)])
    servers.append(source)
    source.start()
    d = str(tmp_path / "l")
    make_oci_layout(d, layer_sizes=((layer_size, False),))
    skopeo("copy", "--dest-tls-verify=false", f"oci:{d}:latest", f"docker://{source.address}/{reference}")
    return source


def wait_error(source, name, text, timeout=30):
    """The status of `name` once its last error contains `text` (or the last status seen)."""
    deadline = time.time() + timeout
    while True:
        s = status(["--root", source.root])[name]
        if (s["lastError"] and text in s["lastError"]) or time.time() > deadline:
            return s
        time.sleep(0.2)


def test_a_lying_destination_is_an_error_in_status_and_nothing_is_lost(servers, tmp_path):
    b = Server()
    servers.append(b)
    b.start()
    wrong = "sha256:" + "0" * 64

    def lie(method, path, code, headers):
        if method == "PUT" and code == 201:
            return [(k, wrong if k.lower() == "docker-content-digest" else v) for k, v in headers]
        return headers

    proxy = RecordingProxy(b.url, rewrite=lie)
    try:
        source = push_through_replication(servers, tmp_path, "liar", proxy.url, 16 << 10, "lie/app:v1")
        s = wait_error(source, "liar", "digest")
        assert s["pendingEvents"] > 0 and wrong in s["lastError"], s
        assert metric(source.url, "berth_replication_healthy", "liar") == 0
        assert tags(source, "lie/app") and source.verify_store() > 0
        # Once the destination answers truthfully, the retries deliver everything.
        proxy.rewrite = None
        wait_synced(["--root", source.root], ["liar"])
        assert snapshot(b) == snapshot(source)
    finally:
        proxy.cleanup()


def test_a_full_disk_at_a_destination_is_an_error_in_status_until_there_is_room(servers, tmp_path):
    disk = tmp_path / "small"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        b = Server(root=str(disk / "root"))
        servers.append(b)
        b.start()
        source = push_through_replication(servers, tmp_path, "small", b.url, 2 << 20, "big/app:v1")
        s = wait_error(source, "small", "")
        assert s["pendingEvents"] > 0 and "space" in s["lastError"].lower(), s
        assert tags(source, "big/app") and source.verify_store() == 3
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        wait_synced(["--root", source.root], ["small"])
        assert snapshot(b) == snapshot(source)
        b.verify_store()
    finally:
        for s in list(servers):
            s.kill9()
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_queue_database_that_is_gone_refuses_writes_and_loses_nothing(servers, postgres, tmp_path):
    b = Server()
    servers.append(b)
    b.start()
    source = SharedQueueSource([("b", b.url)], postgres.url)
    servers.append(source)
    source.start()
    d = str(tmp_path / "l")
    make_oci_layout(d, layer_sizes=((16 << 10, False),))
    skopeo("copy", "--dest-tls-verify=false", f"oci:{d}:latest", f"docker://{source.address}/gone/app:v1")
    wait_shared(postgres.url, ["b"])
    postgres.stop()
    other = str(tmp_path / "l2")
    make_oci_layout(other, layer_sizes=((16 << 10, False),))
    r = skopeo("copy", "--dest-tls-verify=false", f"oci:{other}:latest", f"docker://{source.address}/gone/app:v2", check=False)
    assert r.returncode != 0
    assert list(tags(source, "gone/app")) == ["v1"]
    r = subprocess.run([binary("berth-registry"), "replication", "status", "--queue", postgres.url], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "replication queue at" in r.stderr and "unavailable" in r.stderr, r.stderr
    blob = b"refused while the queue is gone"
    code, _, body = request("POST", f"{source.url}/v2/gone/app/blobs/uploads/?digest=sha256:{hashlib.sha256(blob).hexdigest()}", body=blob)
    assert code >= 500 and b"could not be queued for replication" in body, (code, body)
    # The database back: the refused push goes through when tried again, and reaches b.
    postgres.start()
    skopeo("copy", "--dest-tls-verify=false", f"oci:{other}:latest", f"docker://{source.address}/gone/app:v2")
    wait_shared(postgres.url, ["b"])
    assert snapshot(b) == snapshot(source) and set(tags(b, "gone/app")) == {"v1", "v2"}
