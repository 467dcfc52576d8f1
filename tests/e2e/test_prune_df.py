"""Housekeeping as docker does it: container, image, volume and system prune (filters
`until`, `label`, `label!`, `dangling`), reclaimed space reported, `system df` (and `-v`,
docker-py's `df`), and the list filters people use (`ps --filter exited/before/since/volume/
label`, `images --filter dangling/label/before/since/reference`)."""
import json
import time

import pytest


def ids(daemon, *args):
    return daemon.docker(*args, check=True).stdout.decode().split()


def test_container_prune_takes_stopped_ones_matching(fresh_daemon):
    d = fresh_daemon
    d.docker("run", "--name", "p-old", "--label", "keep=no", "busybox", "sh", "-c", "head -c 300000 /dev/zero > /junk", check=True)
    d.docker("run", "--name", "p-kept", "--label", "keep=yes", "busybox", "true", check=True)
    d.docker("run", "-d", "--name", "p-running", "busybox", "sleep", "300", check=True)
    r = d.docker("container", "prune", "-f", "--filter", "label!=keep=yes")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "Deleted Containers:" in out and "Total reclaimed space:" in out
    names = ids(d, "ps", "-a", "--format", "{{.Names}}")
    assert sorted(names) == ["p-kept", "p-running"]
    # until: only containers created before the instant.
    r = d.docker("container", "prune", "-f", "--filter", "until=1h")
    assert b"p-kept" not in r.stdout
    assert sorted(ids(d, "ps", "-a", "--format", "{{.Names}}")) == ["p-kept", "p-running"]
    client = d.client()
    pruned = client.containers.prune(filters={"label": "keep=yes"})
    assert len(pruned["ContainersDeleted"]) == 1 and pruned["SpaceReclaimed"] >= 0
    assert ids(d, "ps", "-a", "--format", "{{.Names}}") == ["p-running"]
    assert client.containers.prune()["ContainersDeleted"] is None


def test_image_prune_dangling_and_all(fresh_daemon):
    d = fresh_daemon
    d.docker("create", "--name", "img-src", "busybox", "true", check=True)
    d.docker("commit", "-c", "LABEL stage=one", "img-src", "pr-img:1", check=True)
    d.docker("commit", "-c", "LABEL stage=two", "img-src", "pr-img:1", check=True)  # the first is now dangling
    d.docker("commit", "img-src", "pr-unused:1", check=True)
    d.docker("rm", "img-src", check=True)
    dangling = ids(d, "images", "-q", "--filter", "dangling=true")
    assert len(dangling) == 1
    assert ids(d, "images", "--filter", "label=stage=two", "--format", "{{.Repository}}:{{.Tag}}") == ["pr-img:1"]
    assert "busybox:latest" in ids(d, "images", "--filter", "before=pr-img:1", "--format", "{{.Repository}}:{{.Tag}}")
    assert "pr-unused:1" in ids(d, "images", "--filter", "since=busybox", "--format", "{{.Repository}}:{{.Tag}}")
    r = d.docker("image", "prune", "-f")
    assert r.returncode == 0, r.stderr
    assert b"deleted: sha256:" + dangling[0].encode() in r.stdout
    assert ids(d, "images", "-q", "--filter", "dangling=true") == []
    d.docker("run", "-d", "--name", "uses-busybox", "busybox", "sleep", "300", check=True)
    r = d.docker("image", "prune", "-a", "-f", "--filter", "label!=stage=two")
    assert r.returncode == 0, r.stderr
    left = ids(d, "images", "--format", "{{.Repository}}:{{.Tag}}")
    assert sorted(left) == ["busybox:latest", "pr-img:1"]
    assert b"Total reclaimed space:" in r.stdout
    pruned = d.client().images.prune(filters={"dangling": False})
    assert [i for i in pruned["ImagesDeleted"] or [] if "Untagged" in i] == [{"Untagged": "pr-img:1"}]
    assert ids(d, "images", "--format", "{{.Repository}}") == ["busybox"]


def test_system_df_and_system_prune(fresh_daemon):
    d = fresh_daemon
    d.docker("volume", "create", "df-vol", check=True)
    d.docker("run", "--name", "df-c", "-v", "df-vol:/v", "busybox", "sh", "-c", "head -c 200000 /dev/zero > /v/data; head -c 100000 /dev/zero > /w", check=True)
    r = d.docker("system", "df")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].split()[:2] == ["TYPE", "TOTAL"]
    kinds = [line.split()[0] for line in lines[1:]]
    assert kinds[:3] == ["Images", "Containers", "Local"]
    r = d.docker("system", "df", "-v")
    assert r.returncode == 0, r.stderr
    assert b"df-vol" in r.stdout and b"df-c" in r.stdout
    df = d.client().df()
    (volume,) = [v for v in df["Volumes"] if v["Name"] == "df-vol"]
    assert volume["UsageData"]["RefCount"] == 1 and volume["UsageData"]["Size"] >= 200000
    (container,) = [c for c in df["Containers"] if c["Names"] == ["/df-c"]]
    assert container["SizeRw"] >= 100000
    (image,) = df["Images"]
    assert image["Containers"] == 1 and df["LayersSize"] > 0
    r = d.docker("system", "prune", "-f", "--volumes")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "Deleted Containers:" in out
    assert ids(d, "ps", "-aq") == []
    # docker's system prune --volumes takes anonymous volumes only (API >= 1.42).
    assert "df-vol" in ids(d, "volume", "ls", "-q")
    r = d.docker("system", "prune", "-a", "-f", "--volumes")
    assert r.returncode == 0, r.stderr
    assert ids(d, "images", "-q") == []


def test_ps_filters(daemon):
    daemon.docker("run", "--name", "pf-3", "--label", "a=1", "--label", "b=2", "-v", "pf-vol:/v", "busybox", "sh", "-c", "exit 3", check=False)
    time.sleep(0.01)
    daemon.docker("run", "--name", "pf-0", "--label", "a=1", "busybox", "true", check=True)
    try:
        assert ids(daemon, "ps", "-a", "--filter", "exited=3", "--format", "{{.Names}}") == ["pf-3"]
        assert ids(daemon, "ps", "-a", "--filter", "label=a=1", "--filter", "label=b=2", "--format", "{{.Names}}") == ["pf-3"]
        assert ids(daemon, "ps", "-a", "--filter", "volume=pf-vol", "--format", "{{.Names}}") == ["pf-3"]
        assert "pf-0" in ids(daemon, "ps", "-a", "--filter", "since=pf-3", "--format", "{{.Names}}")
        assert "pf-0" not in ids(daemon, "ps", "-a", "--filter", "before=pf-3", "--format", "{{.Names}}")
        r = daemon.docker("ps", "-a", "--filter", "exited=x")
        assert r.returncode != 0 and b"invalid filter" in r.stderr
    finally:
        daemon.docker("rm", "-f", "-v", "pf-3", "pf-0")
        daemon.docker("volume", "rm", "-f", "pf-vol")


def test_berth_ps_and_images_format(daemon):
    daemon.docker("run", "-d", "--name", "fmt-c", "--label", "k=v", "busybox", "sleep", "300", check=True)
    try:
        r = daemon.berth("ps", "--filter", "name=fmt-c", "--format", "{{.Names}} {{.State}} {{.Labels}}")
        assert r.returncode == 0 and r.stdout == b"fmt-c running k=v\n", r.stderr
        r = daemon.berth("ps", "--filter", "name=fmt-c", "--format", "table {{.ID}}\\t{{.Names}}")
        lines = r.stdout.decode().splitlines()
        assert lines[0].split() == ["CONTAINER", "ID", "NAMES"] and lines[1].split()[1] == "fmt-c", r.stdout
        row = json.loads(daemon.berth("ps", "--filter", "name=fmt-c", "--format", "{{json .}}", check=True).stdout)
        assert row["Names"] == "fmt-c" and len(row["ID"]) == 12
        r = daemon.berth("images", "--format", "{{.Repository}}:{{.Tag}}", "busybox")
        assert r.stdout == b"busybox:latest\n", r.stderr
        r = daemon.berth("images", "--format", "table {{.Repository}}\\t{{.Size}}", "busybox")
        assert r.stdout.decode().splitlines()[0].split() == ["REPOSITORY", "SIZE"]
    finally:
        daemon.docker("rm", "-f", "fmt-c")
