"""The same Dockerfiles and contexts built by berthd and by a private dockerd (Debian's docker.io
20.10, classic builder), both through the docker CLI with DOCKER_BUILDKIT=0 and `--network
none`, and by `buildah bud` where it is installed; then the images compared: the config fields
a Dockerfile sets, the layers added to the base, the history (`created_by`, `empty_layer`) and
every file of the final root filesystem (path, type, mode, owner, size, content digest, link
target, xattrs), read from `docker save` by applying the layers in order with whiteouts.

dockerd is the reference: every test compares Berth with it. buildah's values, where it is
installed, are printed beside them in a failure as a second opinion; buildah is not asserted on
(it differs from docker's classic builder by design: history texts, COPY hashes, --chown).

Every other difference fails a test, with the field, both values and the step. Known, documented
differences are listed in KNOWN_DIFFERENCES and asserted as they are, not hidden. Builds dockerd
refuses are checked to be refused by Berth too. BuildKit-only syntax (heredocs, --chmod, RUN
--mount) is left out: dockerd 20.10's classic builder has none of it."""
import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from berth_testlib import mounts_under, processes_mentioning

# Paths a runtime creates in every container (mount points), not the Dockerfile.
IGNORED_PATHS = {"etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv"}
CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels",
                 "StopSignal", "Healthcheck", "OnBuild", "Shell"]
# A COPY/ADD history text names its source by a digest of docker's own making (a tarsum of the
# source's headers and content); the rest of the text is compared on its own.
SOURCE_DIGEST = re.compile(r"(file|dir|multi):[0-9a-f]{64}\b")
# Known, documented differences, asserted as they are (so a change on either side shows).
KNOWN_DIFFERENCES = {
    "copy_source_digest": "COPY/ADD history texts name the source by docker's tarsum on dockerd and by "
                          "Berth's content digest (the build cache's key) on Berth.",
    "unused_stage_that_fails": "Berth builds only the stages the target needs, as BuildKit does "
                               "(tests/e2e/test_build.py::test_multi_stage_copy_from_target_and_skipped_stages); "
                               "the classic builder builds every stage, so dockerd fails on a broken unused one.",
}


# ---------------------------------------------------------------------------------------------
# The engines


class Engine:
    """An engine the docker CLI drives (berthd or the private dockerd)."""

    def __init__(self, name, host, api_version):
        self.name = name
        self.host = host
        self.api_version = api_version

    def docker(self, *args, input=None, check=False, timeout=120, env=None):
        e = dict(os.environ, DOCKER_HOST=self.host, DOCKER_BUILDKIT="0")
        e.pop("DOCKER_CONTEXT", None)
        if env:
            e.update(env)
        r = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=timeout, env=e)
        if check and r.returncode != 0:
            raise AssertionError(f"{self.name}: docker {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r

    def build(self, context, tag, args=(), env=None):
        r = self.docker("build", "--network", "none", "-t", tag, *args, str(context), timeout=180, env=env)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")

    def build_raw(self, context_tar, tag):
        """POST /build with a context tar made by the test, not by a client that applies
        .dockerignore itself."""
        import docker
        api = docker.APIClient(base_url=self.host, version=self.api_version, timeout=180)
        try:
            lines = list(api.build(fileobj=io.BytesIO(context_tar), custom_context=True, tag=tag, network_mode="none",
                                   rm=True, decode=True))
        finally:
            api.close()
        text = "".join(line.get("stream", "") + line.get("error", "") for line in lines)
        return (1 if any("error" in line for line in lines) else 0), text

    def save(self, tag, path):
        with open(path, "wb") as f:
            e = dict(os.environ, DOCKER_HOST=self.host)
            e.pop("DOCKER_CONTEXT", None)
            subprocess.run(["docker", "save", tag], stdout=f, check=True, timeout=120, env=e)

    def remove_images(self, tags):
        if tags:
            self.docker("rmi", "-f", *tags, timeout=120)


class Buildah:
    """`buildah bud` on a storage root of its own (overlay; its mounts are removed at the end)."""

    name = "buildah"

    def __init__(self, base):
        self.base = base
        self.global_args = ["buildah", "--root", os.path.join(base, "root"), "--runroot", os.path.join(base, "run"),
                            "--storage-driver", "overlay"]
        self.runc_root = os.path.join(base, "runc")
        self.env = dict(os.environ, TMPDIR=os.path.join(base, "tmp"), BUILDAH_TMPDIR=os.path.join(base, "tmp"))
        os.makedirs(self.env["TMPDIR"], exist_ok=True)

    def run(self, *args, check=False, timeout=180, env=None):
        r = subprocess.run([*self.global_args, *args], capture_output=True, timeout=timeout, env=dict(self.env, **(env or {})))
        if check and r.returncode != 0:
            raise AssertionError(f"buildah {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r

    def build(self, context, tag, args=(), env=None):
        # The default isolation (runc): chroot isolation cannot run steps with --network none.
        r = self.run("bud", "--runtime-flag", "root=" + self.runc_root, "--network", "none", "--layers", "--format", "docker", "--pull-never",
                     "-t", tag, *args, str(context), env=env)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")

    def save(self, tag, path):
        self.run("push", tag, f"docker-archive:{path}:{tag}", check=True)


# ---------------------------------------------------------------------------------------------
# Reading an image: config, history and the files of its layers applied in order


def read_image(engine, tag, directory):
    """{"config", "history", "layers", "files"} of `tag` as `docker save` (or buildah push) writes it."""
    path = os.path.join(directory, f"{engine.name}-{tag.replace(':', '_').replace('/', '_')}.tar")
    engine.save(tag, path)
    with tarfile.open(path) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        config = json.load(outer.extractfile(manifest["Config"]))
        files = {}
        for layer in manifest["Layers"]:
            member = outer.extractfile(layer)
            data = member.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            apply_layer(files, data)
    os.unlink(path)
    return {"config": config.get("config") or {}, "history": config.get("history") or [],
            "layers": len(config.get("rootfs", {}).get("diff_ids") or []), "files": files}


def entry_record(member, data, files):
    kind = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
            tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo", tarfile.LNKTYPE: "hardlink"}.get(member.type, repr(member.type))
    xattrs = tuple(sorted((k[len("SCHILY.xattr."):], v) for k, v in member.pax_headers.items() if k.startswith("SCHILY.xattr.")))
    record = {"type": kind, "mode": oct(member.mode & 0o7777), "uid": member.uid, "gid": member.gid}
    if kind == "file":
        record["size"] = len(data)
        record["sha256"] = hashlib.sha256(data).hexdigest()[:16]
    elif kind == "symlink":
        record["target"] = member.linkname
    elif kind in ("char", "block"):
        record["device"] = f"{member.devmajor}:{member.devminor}"
    elif kind == "hardlink":
        # A hard link is the file it names (which of the names a layer stores as the file is the
        # archiver's choice).
        target = files.get(clean(member.linkname))
        record = dict(target) if target else dict(record, target=member.linkname)
    if xattrs:
        record["xattrs"] = xattrs
    return record


def clean(name):
    name = name.lstrip("/")
    while name.startswith("./"):
        name = name[2:]
    return "" if name in (".", "") else name.rstrip("/")


def apply_layer(files, data):
    """Applies one layer tar to `files` ({path: record}): its whiteouts remove what the layers
    below have, then its entries are added (a non-directory replaces a directory's subtree)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as layer:
        members = layer.getmembers()
        for member in members:
            path = clean(member.name)
            parent, _, base = path.rpartition("/")
            if base == ".wh..wh..opq":
                prefix = parent + "/" if parent else ""
                for existing in [p for p in files if p.startswith(prefix) and p != parent]:
                    del files[existing]
            elif base.startswith(".wh."):
                gone = (parent + "/" if parent else "") + base[len(".wh."):]
                for existing in [p for p in files if p == gone or p.startswith(gone + "/")]:
                    del files[existing]
        for member in members:
            path = clean(member.name)
            base = path.rpartition("/")[2]
            if base.startswith(".wh."):
                continue
            content = layer.extractfile(member).read() if member.isreg() else b""
            record = entry_record(member, content, files)
            if record["type"] != "dir":
                for existing in [p for p in files if p.startswith(path + "/")]:
                    del files[existing]
            files[path] = record
    return files


# ---------------------------------------------------------------------------------------------
# Fixtures: the private dockerd, buildah's store, and each case built once on every engine


# Paths outside its own directories that dockerd (its plugin directory), the containerd it
# starts (shim sockets) and runc (buildah's steps) make whatever their flags say; removed at the
# end when a fixture made them and they are empty.
HOST_PATHS = ["/run/docker", "/run/containerd", "/run/runc"]


def remove_empty_trees(paths):
    for path in paths:
        for root, _, _ in sorted(os.walk(path, topdown=False), key=lambda entry: -len(entry[0])):
            with contextlib.suppress(OSError):
                os.rmdir(root)


def dockerd_links():
    """Links named as dockerd names its own (other engines' tests may add theirs meanwhile)."""
    return sorted(n for n in os.listdir("/sys/class/net") if n.startswith(("docker", "br-")))


@pytest.fixture(scope="module")
def dockerd(busybox_tar):
    if not shutil.which("dockerd"):
        pytest.skip("dockerd is not installed (Debian's docker.io; scripts/install-deps.sh installs it)")
    work = tempfile.mkdtemp(prefix="bdc-", dir="/tmp")
    sock = os.path.join(work, "docker.sock")
    links_before = dockerd_links()
    new_host_paths = [p for p in HOST_PATHS if not os.path.exists(p)]
    # A configuration of its own: /etc/docker/daemon.json is not read, and the daemon's key is
    # kept here rather than in /etc/docker/key.json.
    config = os.path.join(work, "daemon.json")
    with open(config, "w") as f:
        json.dump({"deprecated-key-path": os.path.join(work, "key.json")}, f)
    log = open(os.path.join(work, "dockerd.log"), "ab")
    proc = subprocess.Popen(["dockerd", "--config-file", config, "--host", "unix://" + sock, "--data-root", os.path.join(work, "data"),
                             "--exec-root", os.path.join(work, "exec"), "--pidfile", os.path.join(work, "docker.pid"),
                             "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none"],
                            stdout=log, stderr=log, start_new_session=True)
    engine = Engine("dockerd", "unix://" + sock, "1.41")
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("dockerd exited: " + open(os.path.join(work, "dockerd.log"), errors="replace").read()[-3000:])
            if os.path.exists(sock) and engine.docker("version", timeout=10).returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("dockerd did not answer")
        with open(busybox_tar, "rb") as f:
            engine.docker("import", "-c", 'CMD ["sh"]', "-", "busybox:latest", input=f.read(), check=True)
        yield engine
    finally:
        if proc.poll() is None:
            ids = engine.docker("ps", "-aq", timeout=30).stdout.split()
            if ids:
                engine.docker("rm", "-f", *[i.decode() for i in ids], timeout=60)
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        # dockerd's own containerd and shims live under its exec root.
        for pid in processes_mentioning(work):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for point in sorted(mounts_under(work), key=len, reverse=True):
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        remove_empty_trees(new_host_paths)
        added = sorted(set(dockerd_links()) - set(links_before))
        for link in added:
            subprocess.run(["ip", "link", "delete", link], capture_output=True)
        assert dockerd_links() == links_before, f"dockerd left network links behind: {added}"
        assert not mounts_under(work), f"mounts left under {work}: {mounts_under(work)}"


@pytest.fixture(scope="module")
def buildah(dockerd, tmp_path_factory):
    """buildah with busybox:latest pulled from dockerd's own save of it, or None."""
    if not shutil.which("buildah"):
        yield None
        return
    work = tempfile.mkdtemp(prefix="bdb-", dir="/tmp")
    engine = Buildah(work)
    # containers/image keeps a blob-info cache there for root whatever --root says.
    system_cache = "/var/lib/containers/cache"
    cache_existed = os.path.exists(system_cache)
    try:
        saved = os.path.join(work, "busybox.tar")
        dockerd.save("busybox:latest", saved)
        engine.run("pull", f"docker-archive:{saved}", check=True)  # named localhost/busybox:latest
        yield engine
    finally:
        engine.run("rm", "--all")
        engine.run("rmi", "--all", "--force")
        for point in sorted(mounts_under(work), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        if not cache_existed:
            shutil.rmtree(system_cache, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(system_cache))


@pytest.fixture(scope="module")
def engines(daemon, dockerd, buildah):
    berth = Engine("berthd", daemon.host, "1.44")
    return {"berthd": berth, "dockerd": dockerd, **({"buildah": buildah} if buildah else {})}


class Built:
    """Each case built once per engine (in the order the cases need), its images read."""

    def __init__(self, engines, directory):
        self.engines = engines
        self.directory = directory
        self.results = {}
        self.tags = {name: [] for name in engines}

    def base(self):
        return self.get("base")

    def get(self, name):
        if name in self.results:
            return self.results[name]
        case = CASES[name]
        for needed in case.get("needs", ()):
            self.get(needed)
        context = os.path.join(self.directory, name)
        os.makedirs(context, exist_ok=True)
        os.chmod(context, 0o755)
        case["context"](context)
        outcome = {}
        for engine_name, engine in self.engines.items():
            tag = f"compare-{name}:latest"
            if engine_name == "buildah" and case.get("raw"):
                continue
            if case.get("raw"):
                code, output = engine.build_raw(tar_directory(context), tag)
            elif name == "base":
                code, output = 0, ""
                tag = "busybox:latest"
            else:
                code, output = engine.build(context, tag, case.get("args", ()), env=case.get("env"))
            if tag != "busybox:latest":
                self.tags[engine_name].append(tag)
            if code != 0:
                outcome[engine_name] = {"error": output}
                continue
            outcome[engine_name] = read_image(engine, tag, self.directory)
            outcome[engine_name]["output"] = output
        self.results[name] = outcome
        return outcome

    def cleanup(self):
        for name, engine in self.engines.items():
            if name == "buildah":
                continue
            leftover = engine.docker("ps", "-aq").stdout.split()
            if leftover:
                engine.docker("rm", "-f", *[i.decode() for i in leftover])
            engine.remove_images(list(reversed(self.tags[name])))


@pytest.fixture(scope="module")
def built(engines, tmp_path_factory):
    b = Built(engines, str(tmp_path_factory.mktemp("compare")))
    try:
        yield b
    finally:
        b.cleanup()


def tar_directory(directory):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name in sorted(os.listdir(directory)):
            tar.add(os.path.join(directory, name), arcname=name)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The cases: a Dockerfile and the context it is built from


def write(directory, files, modes=None):
    for name, content in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w" if isinstance(content, str) else "wb") as f:
            f.write(content)
        os.chmod(path, 0o644)
    for name, mode in (modes or {}).items():
        os.chmod(os.path.join(directory, name), mode)


def context_small(d):
    write(d, {"Dockerfile": """FROM busybox
ENV GREETING=hello APP_HOME=/app
ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
LABEL org.example.team="build team" version=1 multi.word="a b c"
WORKDIR /app
RUN echo "$GREETING from run" > /app/run.txt && chmod 0640 /app/run.txt && chown 1234:50 /app/run.txt && mkdir -p /data/sub && chmod 0750 /data && chown 1234:1234 /data
RUN echo "worker:x:1234:1234::/home/worker:/bin/sh" >> /etc/passwd && echo "worker:x:1234:" >> /etc/group && mkdir -p /home/worker && chown worker:worker /home/worker && chmod 2770 /home/worker && ln -s /app/run.txt /home/worker/run-link && touch /app/setuid && chmod 4755 /app/setuid
COPY hello.txt tool.sh ./
COPY conf /etc/app/
USER worker:1234
EXPOSE 8080 53/udp 9000/tcp
VOLUME ["/data", "/cache"]
CMD ["--serve"]
ENTRYPOINT ["/app/tool.sh"]
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --start-period=2s --retries=4 CMD ["/app/tool.sh", "--check"]
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ONBUILD COPY . /src/
""", "hello.txt": "hello file\n", "tool.sh": "#!/bin/sh\necho tool \"$@\"\n", "conf/a.conf": "a=1\n",
        "conf/sub/b.conf": "b=2\n", "conf/sub/deeper/c.conf": "c=3\n"},
        modes={"tool.sh": 0o755, "conf/sub/b.conf": 0o600, "conf/sub/deeper": 0o700})
    os.makedirs(os.path.join(d, "conf", "empty"), exist_ok=True)
    os.chmod(os.path.join(d, "conf", "empty"), 0o750)


def context_onbuild_child(d):
    write(d, {"Dockerfile": "FROM compare-small:latest\nRUN cat /tmp/onbuild.txt > /home/worker/child.txt\n", "child-file.txt": "child\n"})


def context_chown(d):
    write(d, {"Dockerfile": """FROM busybox
RUN echo "app:x:2000:3000::/home/app:/bin/sh" >> /etc/passwd && echo "svc:x:2100:3000::/:/bin/sh" >> /etc/passwd && echo "appgrp:x:3000:" >> /etc/group && echo "other:x:3001:" >> /etc/group && echo "svc:x:3100:" >> /etc/group && mkdir /owned
COPY --chown=7:8 owned.txt /owned/numeric.txt
COPY --chown=app:appgrp owned.txt /owned/by-name.txt
COPY --chown=svc owned.txt /owned/user-only.txt
COPY --chown=2000:other owned.txt /owned/mixed.txt
COPY --chown=55 owned.txt /owned/uid-only.txt
COPY --chown=app:appgrp tree /owned/tree/
COPY --chown=1:1 tree /fresh/
COPY --chown=daemon:daemon owned.txt /etc/
COPY --chown=3:4 owned.txt /owned/
""", "owned.txt": "owned\n", "tree/x.txt": "x\n", "tree/sub/y.txt": "y\n"}, modes={"tree/sub/y.txt": 0o600})


def make_tar(entries, compress=False):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if compress else "w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, mode, uid, gid, payload in entries:
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, 1_600_000_000
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, payload
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return out.getvalue()


def context_add_gzip_not_a_tar(d):
    write(d, {"Dockerfile": "FROM busybox\nADD notatar.gz /etc/\nADD notatar.txt.gz /etc/renamed.gz\n",
              "notatar.gz": gzip.compress(b"just text, gzipped\n", mtime=0), "notatar.txt.gz": gzip.compress(b"more text\n", mtime=0)})


def context_copy_to_a_missing_parent(d):
    write(d, {"Dockerfile": "FROM busybox\nCOPY single.txt /newparent/file.txt\n", "single.txt": "single\n"})


def context_workdir_with_missing_parents(d):
    write(d, {"Dockerfile": "FROM busybox\nWORKDIR /srv/app/deep\nRUN pwd > /pwd.txt\n"})


def context_copy_into_new_nested_dirs(d):
    write(d, {"Dockerfile": """FROM busybox
COPY single.txt /new/nested/path/
COPY dir /new3/a/b
COPY --chown=1:2 dir /new4/a/b/
""", "single.txt": "single\n", "dir/f1": "one\n", "dir/sub/f2": "two\n"}, modes={"dir": 0o750})


def context_add_tar(d):
    bundle = make_tar([
        ("pkg/", "dir", 0o750, 42, 43, None),
        ("pkg/inside.txt", "file", 0o600, 42, 43, b"from the tarball\n"),
        ("pkg/bin/", "dir", 0o755, 0, 0, None),
        ("pkg/bin/run", "file", 0o755, 0, 0, b"#!/bin/sh\n"),
        ("pkg/link", "symlink", 0o777, 42, 43, "inside.txt"),
        ("pkg/hard", "hardlink", 0o600, 42, 43, "pkg/inside.txt"),
        ("pkg/setuid", "file", 0o4755, 0, 0, b"suid\n"),
        ("pkg/private/", "dir", 0o700, 1000, 1000, None),
    ], compress=True)
    plain = make_tar([("plain/", "dir", 0o755, 0, 0, None), ("plain/p.txt", "file", 0o640, 5, 6, b"plain\n")])
    onto_root = make_tar([("etc/", "dir", 0o711, 0, 0, None), ("etc/extra.conf", "file", 0o644, 0, 0, b"extra\n"),
                          ("srv/", "dir", 0o700, 9, 9, None), ("srv/data", "file", 0o400, 9, 9, b"data\n")])
    write(d, {"Dockerfile": """FROM busybox
ADD bundle.tar.gz /opt/
ADD plain.tar /opt/plain-dest/
ADD bundle.tar.gz /opt/again
COPY bundle.tar.gz /copied/
ADD single.txt /opt/renamed.txt
ADD onto-root.tar /
""", "bundle.tar.gz": bundle, "plain.tar": plain,
        "single.txt": "single\n", "onto-root.tar": onto_root})


def context_multistage(d):
    write(d, {"Dockerfile": """ARG BASE=busybox
FROM $BASE AS builder
RUN mkdir -p /out/nested && echo built > /out/artifact && chmod 0751 /out/artifact && chown 42:43 /out/artifact && echo deep > /out/nested/deep.txt && chown -R 7:7 /out/nested && ln -s artifact /out/link
FROM busybox AS unused
RUN echo unused > /unused.txt
FROM busybox
COPY --from=builder /out/artifact /artifact
COPY --from=0 /out /out-dir
COPY --from=builder /out/ /out-slash/
COPY --from=builder /out/link /link-copied
COPY --from=builder --chown=5:6 /out/nested /chowned/
HEALTHCHECK NONE
CMD ["cat", "/artifact"]
"""})


def context_args(d):
    write(d, {"Dockerfile": """ARG BASE_TAG=latest
ARG UNUSED_GLOBAL=g
FROM busybox:${BASE_TAG}
ARG BASE_TAG
ARG WHO=nobody
ARG EMPTY
ARG FROM_ENV_ARG
ENV GREETING="hi ${WHO}" TAG=${BASE_TAG} DEFAULTED=${EMPTY:-fallback} ALT=${WHO:+set} GLOBAL=${UNUSED_GLOBAL:-unset}
LABEL who=$WHO tag="${BASE_TAG}" env_arg=${FROM_ENV_ARG}
RUN echo "$WHO $BASE_TAG $EMPTY $FROM_ENV_ARG" > /args.txt
RUN true
ARG LATE=late-default
RUN echo "$LATE $HTTP_PROXY" > /late.txt
USER ${WHO}
WORKDIR /home/$WHO
"""})


ARGS = ["--build-arg", "WHO=alice", "--build-arg", "HTTP_PROXY=http://127.0.0.1:9", "--build-arg", "NOT_DECLARED=1",
        "--build-arg", "FROM_ENV_ARG"]

IGNORE_FILES = {"README.md": "readme\n", "NOTES.md": "notes\n", "build/out.bin": "bin\n", "keep/a.txt": "a\n",
                "keep/deep/x.tmp": "tmp\n", "keep/important.tmp": "important\n", "secret.key": "k\n",
                "sub/secret.txt": "not top-level\n", ".git/HEAD": "ref\n", "docs/guide.md": "guide\n"}
IGNORE_RULES = "# a comment\n*.md\n!README.md\nbuild/\n**/*.tmp\n!keep/important.tmp\nsecret*\n.git\n"


def context_dockerignore(d):
    os.chmod(d, 0o750)
    write(d, {"Dockerfile": "FROM busybox\nCOPY . /src/\n", ".dockerignore": IGNORE_RULES, **IGNORE_FILES})


def context_dockerignore_lists_dockerfile(d):
    write(d, {"Dockerfile": "FROM busybox\nCOPY . /src/\n", ".dockerignore": IGNORE_RULES + "Dockerfile\n.dockerignore\n", **IGNORE_FILES})


def context_shell(d):
    write(d, {"Dockerfile": """FROM busybox
SHELL ["/bin/sh", "-e", "-u", "-c"]
RUN echo "shell run" > /shell.txt
ENV SHELLVAR=1
SHELL ["/bin/sh", "-c"]
RUN set -e; echo second >> /shell.txt
SHELL ["/bin/sh", "-x", "-c"]
ENTRYPOINT exec echo from-entrypoint
HEALTHCHECK --interval=5s CMD test -f /shell.txt
STOPSIGNAL 9
"""})


def context_copy_paths(d):
    write(d, {"Dockerfile": """FROM busybox
COPY single.txt /etc/
COPY single.txt /etc/single-renamed
COPY single.txt /usr
COPY dir/ /dst-slash
COPY dir /dst-noslash
COPY dir /etc/
COPY modedir /modedir-new
COPY modedir /usr/
COPY link.txt /links/
COPY dir-link /links/dir-link-copied
COPY *.txt /glob/
WORKDIR /work
COPY single.txt .
COPY single.txt relative/
""", "single.txt": "single\n", "dir/f1": "one\n", "dir/sub/f2": "two\n",
        "modedir/m.txt": "m\n"}, modes={"dir/sub": 0o700, "dir/f1": 0o640, "modedir": 0o750})
    os.symlink("f1", os.path.join(d, "dir", "link-in"))
    os.symlink("/etc/passwd", os.path.join(d, "dir", "abs-link"))
    os.symlink("no-such-file", os.path.join(d, "dir", "sub", "dangling"))
    os.symlink("dir/f1", os.path.join(d, "link.txt"))
    os.symlink("dir", os.path.join(d, "dir-link"))


CASES = {
    "base": {"context": lambda d: None},
    "small": {"context": context_small},
    "onbuild_child": {"context": context_onbuild_child, "needs": ["small"]},
    "chown": {"context": context_chown},
    "add_tar": {"context": context_add_tar},
    "multistage": {"context": context_multistage},
    "args": {"context": context_args, "args": ARGS, "env": {"FROM_ENV_ARG": "from-env"}},
    "dockerignore": {"context": context_dockerignore},
    "dockerignore_lists_dockerfile": {"context": context_dockerignore_lists_dockerfile},
    "dockerignore_raw_context": {"context": context_dockerignore_lists_dockerfile, "raw": True},
    "shell": {"context": context_shell},
    "copy_paths": {"context": context_copy_paths},
    "copy_to_a_missing_parent": {"context": context_copy_to_a_missing_parent},
    "copy_into_new_nested_dirs": {"context": context_copy_into_new_nested_dirs},
    "workdir_with_missing_parents": {"context": context_workdir_with_missing_parents},
    "add_gzip_not_a_tar": {"context": context_add_gzip_not_a_tar},
}
BUILT_CASES = [name for name in CASES if name != "base"]
COPYING_CASES = [name for name in BUILT_CASES if name not in ("args", "shell", "workdir_with_missing_parents")]


# ---------------------------------------------------------------------------------------------
# Comparisons


def outcome(built, case):
    result = built.get(case)
    for name in ("dockerd", "berthd"):
        assert "error" not in result[name], f"{case}: the build failed on {name}:\n{result[name]['error'][-3000:]}"
    return result


def others(result, key_function):
    """ 'buildah=...' for the failure message, where buildah built the case."""
    if "buildah" not in result:
        return ""
    if "error" in result["buildah"]:
        return " (buildah failed)"
    return f" buildah={key_function(result['buildah'])!r}"


def config_fields(image):
    """The fields, a missing one as None and an empty string as None (dockerd writes `""` for
    an unset WorkingDir or User, which means the same as no value)."""
    values = {field: image["config"].get(field) for field in CONFIG_FIELDS}
    return {field: None if value == "" else value for field, value in values.items()}


def added_history(image, base):
    return image["history"][len(base["history"]):]


def history_lines(image, base, keep_digests=False):
    lines = []
    for entry in added_history(image, base):
        text = entry.get("created_by", "")
        if not keep_digests:
            text = SOURCE_DIGEST.sub(lambda m: m.group(1) + ":<digest>", text)
        lines.append((text, bool(entry.get("empty_layer", False))))
    return lines


def tree(image):
    return {path: record for path, record in image["files"].items() if path not in IGNORED_PATHS}


def tree_differences(result):
    berth, docker = tree(result["berthd"]), tree(result["dockerd"])
    buildah = tree(result["buildah"]) if "buildah" in result and "error" not in result["buildah"] else None
    lines = []
    for path in sorted(set(berth) | set(docker)):
        if berth.get(path) != docker.get(path):
            line = f"/{path}: berthd={berth.get(path)} dockerd={docker.get(path)}"
            if buildah is not None:
                line += f" buildah={buildah.get(path)}"
            lines.append(line)
    return lines


def test_the_base_image_is_the_same_on_both_engines(built):
    result = outcome(built, "base")
    assert tree_differences(result) == []
    assert result["berthd"]["layers"] == result["dockerd"]["layers"] == 1
    assert config_fields(result["berthd"]) == config_fields(result["dockerd"])
    assert len(result["berthd"]["history"]) == len(result["dockerd"]["history"])


@pytest.mark.parametrize("case", BUILT_CASES)
def test_config_fields_match(built, case):
    result = outcome(built, case)
    berth, docker = config_fields(result["berthd"]), config_fields(result["dockerd"])
    differences = [f"{field}: berthd={berth[field]!r} dockerd={docker[field]!r}"
                   + others(result, lambda image, f=field: config_fields(image)[f])
                   for field in CONFIG_FIELDS if berth[field] != docker[field]]
    assert not differences, f"{case}:\n" + "\n".join(differences)


@pytest.mark.parametrize("case", BUILT_CASES)
def test_layers_added_to_the_base_match(built, case):
    result = outcome(built, case)
    base = built.base()
    berth = result["berthd"]["layers"] - base["berthd"]["layers"]
    docker = result["dockerd"]["layers"] - base["dockerd"]["layers"]
    assert berth == docker, f"{case}: berthd added {berth} layers, dockerd {docker}" + \
        others(result, lambda image: image["layers"] - base["dockerd"]["layers"])


@pytest.mark.parametrize("case", BUILT_CASES)
def test_history_matches(built, case):
    result = outcome(built, case)
    base = built.base()
    berth = history_lines(result["berthd"], base["berthd"])
    docker = history_lines(result["dockerd"], base["dockerd"])
    if berth != docker:
        buildah = result.get("buildah")
        buildah = history_lines(buildah, base["buildah"]) if buildah and "error" not in buildah else None
        rows = []
        for i in range(max(len(berth), len(docker))):
            b = berth[i] if i < len(berth) else None
            d = docker[i] if i < len(docker) else None
            if b != d:
                rows.append(f"entry {i + 1} after the base: berthd={b!r}\n   dockerd={d!r}"
                            + (f"\n   buildah={buildah[i] if i < len(buildah) else None!r}" if buildah is not None else ""))
        pytest.fail(f"{case}: history (created_by, empty_layer) after the base differs, {len(rows)} of {len(docker)} entries:\n"
                    + "\n".join(rows))


@pytest.mark.parametrize("case", COPYING_CASES)
def test_copy_history_names_the_source_as_docker_does(built, case):
    """COPY/ADD history texts name their source as docker does: `file:`, `dir:` or `multi:`
    and a digest of it. The digest itself is a known difference (KNOWN_DIFFERENCES
    "copy_source_digest"): docker writes a tarsum of the source's headers and content, Berth its
    own content digest (the one its cache keys on); both change exactly when the content does.
    The rest of those texts is test_history_matches'."""
    result = outcome(built, case)
    base = built.base()

    def digests(image, base_image):
        return [m.group(0) for t, _ in history_lines(image, base_image, keep_digests=True) for m in SOURCE_DIGEST.finditer(t)]
    berth, docker = digests(result["berthd"], base["berthd"]), digests(result["dockerd"], base["dockerd"])
    assert docker, f"{case} has no COPY or ADD history on dockerd"
    kinds = [(b.split(":")[0], d.split(":")[0]) for b, d in zip(berth, docker)]
    assert len(berth) == len(docker) and all(b == d for b, d in kinds), f"{case}: source kinds differ: {kinds}"
    # The known difference, asserted as it is: the same sources, other digests.
    assert all(b != d for b, d in zip(berth, docker)), f"{case}: a digest now matches docker's; update KNOWN_DIFFERENCES"


@pytest.mark.parametrize("case", BUILT_CASES)
def test_files_match(built, case):
    result = outcome(built, case)
    differences = tree_differences(result)
    assert not differences, f"{case}: {len(differences)} paths differ:\n" + "\n".join(differences[:60])
    # The comparison saw the case's own files, not only the base's.
    assert len(tree(result["berthd"])) > len(tree(built.base()["berthd"]))


# Dockerfiles dockerd's classic builder refuses: Berth refuses them too (unless KNOWN_DIFFERENCES
# says otherwise).
REFUSED = {
    "chown_to_a_user_without_a_same_named_group":
        "FROM busybox\nRUN echo 'app:x:2000:3000::/:/bin/sh' >> /etc/passwd\nCOPY --chown=app f /f\n",
    "chown_to_an_unknown_user": "FROM busybox\nCOPY --chown=nosuchuser f /f\n",
    "copy_of_a_missing_source": "FROM busybox\nCOPY missing /x\n",
    "copy_of_two_sources_to_a_non_directory": "FROM busybox\nCOPY f g /not-a-dir\n",
    "unused_stage_that_fails": "FROM busybox AS broken\nRUN exit 7\nFROM busybox\nRUN echo final > /final\n",
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_dockerd_refuses_berth_refuses(engines, tmp_path, case):
    write(tmp_path, {"Dockerfile": REFUSED[case], "f": "f\n", "g": "g\n"})
    tag = "compare-refused-" + case.replace("_", "-") + ":latest"
    outcomes = {}
    for name in ("dockerd", "berthd"):
        engine = engines[name]
        outcomes[name] = engine.build(tmp_path, tag)
        leftover = engine.docker("ps", "-aq").stdout.split()
        if leftover:
            engine.docker("rm", "-f", *[i.decode() for i in leftover])
        engine.remove_images([tag])
    (docker_code, docker_output), (berth_code, berth_output) = outcomes["dockerd"], outcomes["berthd"]
    assert docker_code != 0, f"{case}: dockerd built it:\n{docker_output[-2000:]}"
    if case in KNOWN_DIFFERENCES:
        assert berth_code == 0, f"{case}: {KNOWN_DIFFERENCES[case]} But berthd failed too:\n{berth_output[-2000:]}"
    else:
        assert berth_code != 0, f"{case}: berthd built what dockerd refuses; dockerd said:\n" + \
            "\n".join(line for line in docker_output.splitlines()[-3:] if line.strip())
