"""Dockerfile builds through the docker CLI (classic builder protocol), docker-py and berth:
instructions, the content-keyed cache, multi-stage builds, .dockerignore, and hostile input."""
import io
import json
import os
import re
import subprocess
import tarfile

import pytest

from berth_testlib import binary


def write(directory, files):
    for name, content in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w" if isinstance(content, str) else "wb") as f:
            f.write(content)


def build(daemon, directory, *args, tag=None):
    extra = ["-t", tag] if tag else []
    return daemon.docker("build", *extra, *args, str(directory), timeout=180)


def inspect(daemon, name):
    return json.loads(daemon.docker("image", "inspect", name, check=True).stdout)[0]


def run(daemon, image, *command):
    r = daemon.docker("run", "--rm", "--network", "none", image, *command, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


SMALL = """FROM busybox
ENV GREETING=hello PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
LABEL org.example.team="build team" version=1
WORKDIR /app
COPY hello.txt .
COPY conf/ /etc/app/
RUN echo "$GREETING from run" > /app/run.txt && mkdir -p /data && chmod 0750 /data
RUN echo "worker:x:1234:1234::/home/worker:/bin/sh" >> /etc/passwd
USER worker
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGQUIT
ENTRYPOINT ["sh", "-c"]
CMD ["cat /app/hello.txt"]
"""


def small_context(directory):
    write(directory, {"Dockerfile": SMALL, "hello.txt": "hello file\n", "conf/a.conf": "a=1\n", "conf/sub/b.conf": "b=2\n"})


def test_build_sets_config_files_and_prints_docker_steps(daemon, tmp_path):
    small_context(tmp_path)
    r = build(daemon, tmp_path, tag="built:small")
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode() + out
    assert "Step 1/14 : FROM busybox" in out
    assert "Step 7/14 : RUN echo \"$GREETING from run\" > /app/run.txt && mkdir -p /data && chmod 0750 /data" in out
    assert re.search(r" ---> Running in [0-9a-f]{12}\n", out)
    assert "Removing intermediate container" in out
    built = re.search(r"Successfully built ([0-9a-f]{12})\n", out).group(1)
    assert "Successfully tagged built:small\n" in out
    info = inspect(daemon, "built:small")
    assert info["Id"].startswith("sha256:" + built)
    config = info["Config"]
    assert "GREETING=hello" in config["Env"]
    assert config["Labels"] == {"org.example.team": "build team", "version": "1"}
    assert config["WorkingDir"] == "/app"
    assert config["User"] == "worker"
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert set(config["Volumes"]) == {"/data"}
    assert config["StopSignal"] == "SIGQUIT"
    assert config["Entrypoint"] == ["sh", "-c"]
    assert config["Cmd"] == ["cat /app/hello.txt"]
    base_layers = len(inspect(daemon, "busybox")["RootFS"]["Layers"])
    # WORKDIR (made), two COPYs and two RUNs add layers; the other steps do not.
    assert len(info["RootFS"]["Layers"]) == base_layers + 5
    history = daemon.client().api.history("built:small")
    assert history[0]["CreatedBy"].startswith("/bin/sh -c #(nop)  CMD")
    assert any(h["CreatedBy"] == '/bin/sh -c echo "$GREETING from run" > /app/run.txt && mkdir -p /data && chmod 0750 /data' for h in history)
    assert run(daemon, "built:small") == "hello file\n"
    listing = run(daemon, "built:small", "cat /app/run.txt; cat /etc/app/a.conf /etc/app/sub/b.conf; stat -c '%a %u:%g %n' /app/hello.txt /data /etc/app/sub; id -u")
    assert listing == "hello from run\na=1\nb=2\n644 0:0 /app/hello.txt\n750 0:0 /data\n755 0:0 /etc/app/sub\n1234\n"
    # No step container is left.
    assert daemon.docker("ps", "-aq").stdout.strip() == b""
    daemon.docker("rmi", "built:small", check=True)


def test_rebuild_is_cached_and_keeps_the_image_id_even_when_only_times_change(daemon, tmp_path):
    small_context(tmp_path)
    first = build(daemon, tmp_path, tag="cached:1")
    assert first.returncode == 0, first.stderr
    first_id = inspect(daemon, "cached:1")["Id"]
    again = build(daemon, tmp_path, tag="cached:1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().count(" ---> Using cache") == 13
    assert "Running in" not in again.stdout.decode()
    assert inspect(daemon, "cached:1")["Id"] == first_id
    # A fresh checkout of the same files: new times, same content.
    for root, _, names in os.walk(tmp_path):
        for name in names:
            os.utime(os.path.join(root, name), (1_000_000, 1_000_000))
    touched = build(daemon, tmp_path, tag="cached:1")
    assert touched.stdout.decode().count(" ---> Using cache") == 13
    assert inspect(daemon, "cached:1")["Id"] == first_id
    # Changing the second COPY's content rebuilds exactly the steps from it on.
    write(tmp_path, {"conf/a.conf": "a=2\n"})
    changed = build(daemon, tmp_path, tag="cached:1")
    out = changed.stdout.decode()
    assert changed.returncode == 0, changed.stderr
    assert out.count(" ---> Using cache") == 4
    assert out.count("Running in") == 2
    assert inspect(daemon, "cached:1")["Id"] != first_id
    assert run(daemon, "cached:1", "cat /etc/app/a.conf") == "a=2\n"
    no_cache = build(daemon, tmp_path, "--no-cache", tag="cached:2")
    assert no_cache.returncode == 0 and "Using cache" not in no_cache.stdout.decode()
    daemon.docker("rmi", "cached:1", "cached:2", check=True)


def test_failing_run_reports_the_exit_code_and_tags_nothing(daemon, tmp_path):
    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo before-failing\nRUN sh -c 'echo to-stderr >&2; exit 3'\n"})
    r = build(daemon, tmp_path, tag="failed:1")
    assert r.returncode == 1
    assert "before-failing" in r.stdout.decode()
    assert "to-stderr" in r.stdout.decode() + r.stderr.decode()
    assert "The command '/bin/sh -c sh -c 'echo to-stderr >&2; exit 3'' returned a non-zero code: 3" in r.stderr.decode()
    assert daemon.docker("image", "inspect", "failed:1").returncode != 0
    # docker keeps the failed step's container unless --force-rm.
    leftover = daemon.docker("ps", "-aq").stdout.split()
    assert len(leftover) == 1
    daemon.docker("rm", "-f", leftover[0].decode(), check=True)
    r = build(daemon, tmp_path, "--force-rm", tag="failed:1")
    assert r.returncode == 1 and daemon.docker("ps", "-aq").stdout.strip() == b""


@pytest.mark.parametrize("dockerfile,line,words", [
    ("FROM busybox\nRUN true\nFROMM busybox\n", 3, "unknown instruction: FROMM"),
    ("FROM busybox\nRUN echo a \\\n  b\nBOGUS x\n", 4, "unknown instruction: BOGUS"),
    ("# only a comment\n", None, ""),
    ("RUN true\n", None, ""),
])
def test_dockerfile_errors_name_the_line(daemon, tmp_path, dockerfile, line, words):
    write(tmp_path, {"Dockerfile": dockerfile})
    r = build(daemon, tmp_path, tag="broken:1")
    assert r.returncode != 0
    message = r.stderr.decode()
    if line is not None:
        assert f"line {line}" in message and words in message, message
    assert daemon.docker("image", "inspect", "broken:1").returncode != 0


def test_missing_dockerfile_and_copy_sources_are_errors(daemon, tmp_path):
    write(tmp_path, {"other.txt": "x"})
    r = build(daemon, tmp_path, tag="nofile:1")
    assert r.returncode != 0 and "Dockerfile" in r.stderr.decode()
    write(tmp_path, {"Dockerfile": "FROM busybox\nCOPY missing.txt /\n"})
    r = build(daemon, tmp_path, tag="nofile:1")
    assert r.returncode == 1 and "missing.txt" in r.stderr.decode()
    write(tmp_path, {"Dockerfile": "FROM no-such-image-anywhere:1\nRUN true\n"})
    r = build(daemon, tmp_path, tag="nofile:1")
    assert r.returncode == 1 and "no-such-image-anywhere" in r.stderr.decode()
    assert daemon.docker("image", "inspect", "nofile:1").returncode != 0


def test_copy_cannot_leave_the_context(daemon, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host secret\n")
    context = tmp_path / "context"
    context.mkdir()
    os.symlink(str(outside / "secret"), str(context / "abs-link"))
    os.symlink("../outside/secret", str(context / "rel-link"))
    write(context, {"Dockerfile": "FROM busybox\nCOPY abs-link /a\n"})
    r = build(daemon, context, tag="escape:1")
    assert r.returncode == 1, r.stdout
    write(context, {"Dockerfile": "FROM busybox\nCOPY rel-link /b\n"})
    r = build(daemon, context, tag="escape:1")
    assert r.returncode == 1, r.stdout
    write(context, {"Dockerfile": "FROM busybox\nCOPY ../outside/secret /c\n"})
    r = build(daemon, context, tag="escape:1")
    assert r.returncode == 1, r.stdout
    # A link whose target is inside the context is followed there.
    os.symlink("Dockerfile", str(context / "inside-link"))
    write(context, {"Dockerfile": "FROM busybox\nCOPY inside-link /d\n"})
    r = build(daemon, context, tag="escape:1")
    assert r.returncode == 0, r.stderr
    assert run(daemon, "escape:1", "cat", "/d").startswith("FROM busybox")
    daemon.docker("rmi", "escape:1", check=True)


def test_dockerignore_excludes_with_exceptions(daemon, tmp_path):
    write(tmp_path, {
        "Dockerfile": "FROM busybox\nCOPY . /src/\n",
        ".dockerignore": "*.md\n!README.md\nbuild/\n**/*.tmp\n",
        "README.md": "readme\n", "NOTES.md": "notes\n", "build/out.bin": "bin\n",
        "keep/a.txt": "a\n", "keep/deep/x.tmp": "tmp\n",
    })
    r = build(daemon, tmp_path, tag="ignored:1")
    assert r.returncode == 0, r.stderr
    listing = run(daemon, "ignored:1", "find", "/src", "-type", "f")
    files = sorted(line for line in listing.split("\n") if line)
    assert files == ["/src/.dockerignore", "/src/Dockerfile", "/src/README.md", "/src/keep/a.txt"]
    daemon.docker("rmi", "ignored:1", check=True)


def test_multi_stage_copy_from_target_and_skipped_stages(daemon, tmp_path):
    write(tmp_path, {"Dockerfile": """ARG BASE=busybox
FROM $BASE AS builder
RUN mkdir /out && echo built > /out/artifact
FROM busybox AS broken
RUN exit 7
FROM busybox AS final
COPY --from=builder /out/artifact /artifact
COPY --from=0 /out /out-dir
CMD ["cat", "/artifact"]
"""})
    r = build(daemon, tmp_path, tag="staged:1")
    assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
    assert "exit 7" not in r.stdout.decode()
    assert run(daemon, "staged:1") == "built\n"
    assert run(daemon, "staged:1", "cat", "/out-dir/artifact") == "built\n"
    r = build(daemon, tmp_path, "--target", "builder", tag="staged:builder")
    assert r.returncode == 0, r.stderr
    assert run(daemon, "staged:builder", "cat", "/out/artifact") == "built\n"
    r = build(daemon, tmp_path, "--target", "broken", tag="staged:broken")
    assert r.returncode == 1 and "returned a non-zero code: 7" in r.stderr.decode()
    r = build(daemon, tmp_path, "--target", "nope", tag="staged:nope")
    assert r.returncode == 1 and "nope" in r.stderr.decode()
    for leftover in daemon.docker("ps", "-aq").stdout.split():
        daemon.docker("rm", "-f", leftover.decode())
    daemon.docker("rmi", "staged:1", "staged:builder", check=True)


def test_args_heredocs_shell_and_onbuild(daemon, tmp_path):
    write(tmp_path, {"Dockerfile": """FROM busybox
ARG WHO=nobody
ARG UNSET
ENV FROM_ENV=${WHO:-x}-${UNSET:-default}-${WHO:+set}
RUN echo "arg=$WHO" > /arg.txt
RUN <<EOF
echo "script line one" > /heredoc.txt
echo "for $WHO" >> /heredoc.txt
EOF
COPY <<EOT /etc/generated.conf
name=${WHO}
EOT
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell > /shell.txt
ONBUILD RUN echo triggered > /onbuild.txt
"""})
    r = build(daemon, tmp_path, "--build-arg", "WHO=alice", "--build-arg", "NOT_DECLARED=1", tag="args:1")
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode() + out
    assert "[Warning] One or more build-args [NOT_DECLARED] were not consumed" in out
    assert run(daemon, "args:1", "cat", "/arg.txt", "/heredoc.txt", "/etc/generated.conf", "/shell.txt") == \
        "arg=alice\nscript line one\nfor alice\nname=alice\nshell\n"
    config = inspect(daemon, "args:1")["Config"]
    assert "FROM_ENV=alice-default-set" in config["Env"]
    assert not any(e.startswith("WHO=") for e in config["Env"])
    assert config["OnBuild"] == ["RUN echo triggered > /onbuild.txt"]
    # The build argument is in RUN's history, as docker writes it.
    history = daemon.client().api.history("args:1")
    assert any(h["CreatedBy"].startswith("|1 WHO=alice /bin/sh -c echo") for h in history)
    child = tmp_path / "child"
    child.mkdir()
    write(child, {"Dockerfile": "FROM args:1\nRUN cat /onbuild.txt\n"})
    r = build(daemon, child, tag="args:child")
    assert r.returncode == 0, r.stderr
    assert "# Executing 1 build trigger" in r.stdout.decode()
    assert run(daemon, "args:child", "cat", "/onbuild.txt") == "triggered\n"
    assert inspect(daemon, "args:child")["Config"].get("OnBuild") in (None, [])
    daemon.docker("rmi", "args:child", "args:1", check=True)


def test_add_unpacks_local_tars_and_copy_sets_owner_and_mode(daemon, tmp_path):
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as tar:
        data = b"from the tarball\n"
        info = tarfile.TarInfo("pkg/inside.txt")
        info.size = len(data)
        info.uid = 42
        info.gid = 43
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(data))
    write(tmp_path, {
        "Dockerfile": "FROM busybox\nADD bundle.tar.gz /opt/\nCOPY --chown=7:8 --chmod=640 owned.txt /owned.txt\n"
                      "COPY --chown=daemon plain.txt /plain.txt\nCOPY *.glob /globbed/\n",
        "bundle.tar.gz": payload.getvalue(), "owned.txt": "owned\n", "plain.txt": "plain\n", "one.glob": "1", "two.glob": "2",
    })
    r = build(daemon, tmp_path, tag="added:1")
    assert r.returncode == 0, r.stderr
    out = run(daemon, "added:1", "sh", "-c", "cat /opt/pkg/inside.txt; stat -c '%a %u:%g %n' /opt/pkg/inside.txt /owned.txt /plain.txt; ls /globbed")
    daemon_uid = run(daemon, "busybox", "id", "-u", "daemon").strip()
    assert out == f"from the tarball\n600 42:43 /opt/pkg/inside.txt\n640 7:8 /owned.txt\n644 {daemon_uid}:{daemon_uid} /plain.txt\none.glob\ntwo.glob\n"
    daemon.docker("rmi", "added:1", check=True)


def test_docker_py_builds_from_a_path_and_a_file_object(daemon, tmp_path):
    client = daemon.client()
    write(tmp_path, {"Dockerfile": "FROM busybox\nARG V\nRUN echo \"v=$V\" > /v\nCMD [\"cat\", \"/v\"]\n"})
    image, logs = client.images.build(path=str(tmp_path), tag="py:built", buildargs={"V": "7"}, labels={"via": "docker-py"})
    assert any("Successfully built" in entry.get("stream", "") for entry in logs)
    assert image.labels == {"via": "docker-py"}
    assert client.containers.run("py:built", remove=True, network_mode="none") == b"v=7\n"
    fileobj = io.BytesIO(b"FROM busybox\nENV FROM_FILEOBJ=1\n")
    image2, _ = client.images.build(fileobj=fileobj, tag="py:fileobj")
    assert "FROM_FILEOBJ=1" in image2.attrs["Config"]["Env"]
    with pytest.raises(Exception) as failure:
        client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 4\n"), tag="py:failed")
    assert "returned a non-zero code: 4" in str(failure.value)
    for leftover in client.containers.list(all=True):
        leftover.remove(force=True)
    client.images.remove("py:built")
    client.images.remove("py:fileobj")


def test_dockerfile_from_stdin_and_custom_path(daemon, tmp_path):
    r = daemon.docker("build", "-t", "stdin:1", "-", input=b"FROM busybox\nLABEL from=stdin\n", timeout=120)
    assert r.returncode == 0, r.stderr
    assert inspect(daemon, "stdin:1")["Config"]["Labels"] == {"from": "stdin"}
    write(tmp_path, {"docker/Build.file": "FROM busybox\nLABEL from=path\n"})
    r = daemon.docker("build", "-t", "path:1", "-f", str(tmp_path / "docker" / "Build.file"), str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert inspect(daemon, "path:1")["Config"]["Labels"] == {"from": "path"}
    daemon.docker("rmi", "stdin:1", "path:1", check=True)


@pytest.mark.parametrize("client", ["docker", "berth"])
def test_dockerfile_outside_the_context_and_from_stdin_with_a_context(daemon, tmp_path, client):
    """docker's CLI sends a Dockerfile from outside the context (or `-f -`) inside the context
    under a random `.dockerfile.*` name that the context's .dockerignore gains: COPY sees
    neither it nor anything the context's rules exclude."""
    context = tmp_path / "ctx"
    write(context, {"data.txt": "in context\n", "skip.log": "ignored\n", ".dockerignore": "*.log\n"})
    write(tmp_path, {"elsewhere/Dockerfile": "FROM busybox\nCOPY . /ctx/\nRUN ls -A /ctx > /listing\n"})
    cli = daemon.docker if client == "docker" else daemon.berth
    tag = f"outside-{client}:1"
    r = cli("build", "-t", tag, "-f", str(tmp_path / "elsewhere" / "Dockerfile"), str(context), timeout=120)
    assert r.returncode == 0, r.stderr
    listing = run(daemon, tag, "cat", "/listing").split()
    assert listing == [".dockerignore", "data.txt"], listing
    r = cli("build", "-t", tag + "-stdin", "-f", "-", str(context), input=b"FROM busybox\nCOPY data.txt /d\nLABEL via=stdin\n", timeout=120)
    assert r.returncode == 0, r.stderr
    assert run(daemon, tag + "-stdin", "cat", "/d") == "in context\n"
    assert inspect(daemon, tag + "-stdin")["Config"]["Labels"] == {"via": "stdin"}
    r = cli("build", "-f", str(tmp_path / "nowhere" / "Dockerfile"), str(context), timeout=120)
    assert r.returncode != 0 and b"nowhere" in r.stderr, r.stderr
    daemon.docker("rmi", tag, tag + "-stdin", check=True)


@pytest.mark.parametrize("client", ["docker", "berth"])
def test_cache_from_an_image_serves_where_no_local_cache_is(daemon, tmp_path, client):
    write(tmp_path, {"Dockerfile": "FROM busybox\nENV A=1\nCOPY f /f\nRUN echo ran > /ran\nCMD [\"cat\", \"/ran\"]\n", "f": "file\n"})
    cli = daemon.docker if client == "docker" else daemon.berth
    tag = f"cache-source-{client}:1"
    r = cli("build", "-t", tag, str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr
    source_id = inspect(daemon, tag)["Id"]
    prune = ["builder", "prune", "-a", "-f"]
    assert daemon.docker(*prune).returncode == 0
    r = cli("build", "--cache-from", tag, "-t", tag + "-again", str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.count("Using cache") == 4 and "Running in" not in out, out
    assert inspect(daemon, tag + "-again")["Id"] == source_id
    # A changed step runs, and everything after it; the steps before it are still served.
    assert daemon.docker(*prune).returncode == 0
    write(tmp_path, {"f": "changed\n"})
    r = cli("build", "--cache-from", tag, "-t", tag + "-changed", str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.count("Using cache") == 1 and "Running in" in out, out
    # Without it, nothing is cached once the local cache is gone.
    assert daemon.docker(*prune).returncode == 0
    write(tmp_path, {"f": "file\n"})
    r = cli("build", "-t", tag + "-cold", str(tmp_path), timeout=180)
    assert r.returncode == 0 and "Using cache" not in r.stdout.decode(), r.stdout
    daemon.docker("rmi", tag, tag + "-again", tag + "-changed", tag + "-cold", check=True)


def test_berth_build_quiet_iidfile_and_builder_prune(daemon, tmp_path):
    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo pruned-later > /p\n"})
    iid = tmp_path / "iid"
    r = daemon.berth("build", "-q", "-t", "berth:built", "--iidfile", str(iid), str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    image_id = inspect(daemon, "berth:built")["Id"]
    assert r.stdout.decode().strip() == image_id
    assert iid.read_text() == image_id
    r = daemon.berth("build", str(tmp_path), timeout=120)
    assert r.returncode == 0 and "Using cache" in r.stdout.decode()
    daemon.docker("rmi", "berth:built", check=True)
    pruned = daemon.client().api.prune_builds()
    assert pruned["SpaceReclaimed"] > 0 and pruned["CachesDeleted"]
    r = daemon.berth("build", str(tmp_path), timeout=120)
    assert r.returncode == 0 and "Using cache" not in r.stdout.decode()
    r = daemon.berth("builder", "prune", "-a", "-f")
    assert r.returncode == 0 and "Total:" in r.stdout.decode()
    r = daemon.berth("build", "-t", "Bad:Tag", str(tmp_path))
    assert r.returncode != 0


def test_run_mounts_cache_bind_tmpfs_and_secret(daemon, tmp_path):
    secret = tmp_path / "token.txt"
    secret.write_text("s3cr3t-value\n")
    context = tmp_path / "context"
    context.mkdir()
    write(context, {"Dockerfile": """FROM busybox
RUN --mount=type=cache,target=/cache,id=counter sh -c 'echo x >> /cache/runs; wc -l < /cache/runs > /runs-seen'
RUN --mount=type=bind,source=data,target=/mnt/data cp /mnt/data/input.txt /copied.txt
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo temp > /scratch/t && cat /scratch/t > /tmpfs-worked'
RUN --mount=type=secret,id=token,required sh -c 'cat /run/secrets/token > /dev/null && wc -c < /run/secrets/token > /secret-length'
""", "data/input.txt": "bound input\n"})
    r = daemon.berth("build", "--secret", f"id=token,src={secret}", "-t", "mounts:1", str(context), timeout=180)
    assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
    out = run(daemon, "mounts:1", "sh", "-c", "cat /runs-seen /copied.txt /tmpfs-worked /secret-length; ls -a /cache /scratch /mnt /run/secrets 2>&1 | grep -c 'No such file'")
    assert out == "1\nbound input\ntemp\n13\n4\n"
    # The secret is in no layer and no history entry.
    saved = daemon.docker("save", "mounts:1", timeout=120).stdout
    assert b"s3cr3t-value" not in saved
    # The cache directory outlives the build: a --no-cache rebuild sees the first run's line.
    r = daemon.berth("build", "--no-cache", "--secret", f"id=token,src={secret}", "-t", "mounts:2", str(context), timeout=180)
    assert r.returncode == 0, r.stderr
    assert run(daemon, "mounts:2", "cat", "/runs-seen") == "2\n"
    # A required secret that was not given fails the step.
    r = daemon.berth("build", "--no-cache", "-t", "mounts:3", str(context), timeout=180)
    assert r.returncode != 0 and "token" in r.stderr.decode()
    daemon.docker("rmi", "mounts:1", "mounts:2", check=True)


def test_run_bind_mounts_from_a_stage_and_an_image(daemon, tmp_path):
    dockerfile = """FROM busybox AS tools
RUN mkdir -p /opt/tools && echo 'echo from-tool-{version}' > /opt/tools/hello.sh
FROM busybox
RUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/tools sh /mnt/tools/hello.sh > /out
RUN --mount=type=bind,from=busybox,target=/bb,rw sh -c 'touch /bb/scribble && ls /bb/bin/busybox > /seen'
"""
    containers_before = daemon.docker("ps", "-aq").stdout.split()
    write(tmp_path, {"Dockerfile": dockerfile.format(version=1)})
    r = daemon.docker("build", "-t", "bind-from:1", str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
    out = run(daemon, "bind-from:1", "sh", "-c", "cat /out /seen; ls /mnt/tools /bb 2>&1 | grep -c 'No such file'; ls /scribble 2>&1 | grep -c 'No such file'")
    assert out == "from-tool-1\n/bb/bin/busybox\n2\n1\n", out
    # What the rw mount wrote went nowhere: not into the image it was read from either.
    assert daemon.docker("run", "--rm", "busybox", "ls", "/scribble").returncode != 0
    r = daemon.docker("build", "-t", "bind-from:1", str(tmp_path), timeout=180)
    assert r.returncode == 0 and "Running in" not in r.stdout.decode(), r.stdout
    # A change in the stage it reads reruns the step.
    write(tmp_path, {"Dockerfile": dockerfile.format(version=2)})
    r = daemon.docker("build", "-t", "bind-from:2", str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr
    assert run(daemon, "bind-from:2", "cat", "/out") == "from-tool-2\n"
    # No container or mount is left behind by the sources.
    assert daemon.docker("ps", "-aq").stdout.split() == containers_before
    daemon.docker("rmi", "bind-from:1", "bind-from:2", check=True)


def test_add_downloads_a_url_from_a_local_server(daemon, tmp_path):
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    (served / "payload.bin").write_bytes(b"downloaded bytes\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        context = tmp_path / "context"
        context.mkdir()
        write(context, {"Dockerfile": f"FROM busybox\nADD http://127.0.0.1:{port}/payload.bin /downloads/\n"
                                      f"ADD http://127.0.0.1:{port}/payload.bin /renamed.bin\n"})
        r = build(daemon, context, "--network", "host", tag="url:1")
        assert r.returncode == 0, r.stderr
        assert run(daemon, "url:1", "sh", "-c", "cat /downloads/payload.bin /renamed.bin; stat -c %a /renamed.bin") == \
            "downloaded bytes\ndownloaded bytes\n600\n"
        write(context, {"Dockerfile": f"FROM busybox\nADD http://127.0.0.1:{port}/missing.bin /x\n"})
        r = build(daemon, context, tag="url:2")
        assert r.returncode == 1 and "404" in r.stderr.decode()
        write(context, {"Dockerfile": f"FROM busybox\nCOPY http://127.0.0.1:{port}/payload.bin /x\n"})
        r = build(daemon, context, tag="url:2")
        assert r.returncode == 1 and "URL" in r.stderr.decode()
    finally:
        server.shutdown()
    daemon.docker("rmi", "url:1", check=True)


def test_copy_exclude_and_parents(daemon, tmp_path):
    write(tmp_path, {
        "Dockerfile": "FROM busybox\nCOPY --exclude=*.log --exclude=**/secret.txt app/ /app/\n"
                      "COPY --parents conf/a/one.conf conf/b/*.conf /etc/layout/\n",
        "app/main.sh": "echo main\n", "app/debug.log": "noise\n", "app/lib/util.sh": "u\n", "app/lib/secret.txt": "no\n",
        "conf/a/one.conf": "1\n", "conf/b/two.conf": "2\n", "conf/b/skip.txt": "x\n",
    })
    r = build(daemon, tmp_path, tag="exclude:1")
    assert r.returncode == 0, r.stderr
    listing = run(daemon, "exclude:1", "find", "/app", "/etc/layout", "-type", "f")
    assert sorted(line for line in listing.split("\n") if line) == [
        "/app/lib/util.sh", "/app/main.sh", "/etc/layout/conf/a/one.conf", "/etc/layout/conf/b/two.conf"]
    # Changing an excluded file keeps the step cached; changing an included one does not.
    write(tmp_path, {"app/debug.log": "more noise\n"})
    r = build(daemon, tmp_path, tag="exclude:1")
    assert r.stdout.decode().count("Using cache") == 2
    write(tmp_path, {"app/main.sh": "echo changed\n"})
    r = build(daemon, tmp_path, tag="exclude:1")
    assert r.stdout.decode().count("Using cache") == 0
    daemon.docker("rmi", "exclude:1", check=True)


def test_berth_build_shows_step_times_and_sends_less_than_the_ignored_context(daemon, tmp_path):
    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN sleep 0.6 && echo timed > /t\nCOPY . /ctx/\n", ".dockerignore": "big\n",
                     "big/blob": "x" * 200_000, "small.txt": "s\n"})
    r = daemon.berth("build", "--progress", "tty", "-t", "timed:1", str(tmp_path), timeout=120)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert re.search(r" ---> [0-9a-f]{12}  \x1b\[2m\d+\.\ds\x1b\[0m\n", out), out
    assert re.search(r"built in \d+\.\ds", out)
    # While the RUN step runs, its clock counts on a status line that is cleared afterwards.
    assert re.search(r"\x1b\[2m  running \d+\.\ds\x1b\[0m\r\x1b\[K", out), out
    assert run(daemon, "timed:1", "ls", "/ctx") == "Dockerfile\nsmall.txt\n"
    # No daemon to send the streamed context to: the connection is the error, not the pipe.
    r = subprocess.run([binary("berth"), "-H", "unix:///nonexistent/berthd.sock", "build", str(tmp_path)], capture_output=True, timeout=60)
    assert r.returncode != 0 and b"Cannot connect" in r.stderr and b"Broken pipe" not in r.stderr, r.stderr
    r = daemon.berth("build", "--progress", "fancy", str(tmp_path))
    assert r.returncode == 125 or r.returncode == 1
    assert "--progress" in r.stderr.decode()
    daemon.docker("rmi", "timed:1", check=True)


def test_independent_stages_run_side_by_side_and_print_in_order(daemon, tmp_path):
    write(tmp_path, {"Dockerfile": """FROM busybox AS left
RUN --mount=type=cache,id=overlap-log,target=/log sh -c 'echo start-left >> /log/events; sleep 2; echo end-left >> /log/events'
RUN echo left > /left
FROM busybox AS right
RUN --mount=type=cache,id=overlap-log,target=/log sh -c 'echo start-right >> /log/events; sleep 2; echo end-right >> /log/events'
RUN echo right > /right
FROM busybox
COPY --from=left /left /left
COPY --from=right /right /right
RUN --mount=type=cache,id=overlap-log,target=/log cp /log/events /events
"""})
    r = build(daemon, tmp_path, tag="parallel:1")
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    steps = re.findall(r"Step (\d+)/10 :", out)
    assert steps == [str(n) for n in range(1, 11)]
    assert run(daemon, "parallel:1", "cat", "/left", "/right") == "left\nright\n"
    events = run(daemon, "parallel:1", "cat", "/events").split()
    # Both stages started before either finished.
    assert sorted(events[:2]) == ["start-left", "start-right"], events
    daemon.docker("rmi", "parallel:1", check=True)


def hostile_context(entries):
    """A context tar with raw entries: (name, type, payload-or-link-target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dockerfile = b"FROM busybox\nCOPY . /ctx/\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = payload
                tar.addfile(info)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("entries", [
    [("../escaped.txt", "file", b"x")],
    [("link", "symlink", "/etc"), ("link/passwd", "file", b"x")],
    [("hard", "hardlink", "../../../../etc/passwd")],
])
def test_hostile_context_tars_are_refused_and_leave_nothing(daemon, entries):
    api = daemon.client().api
    before = set(daemon.docker("images", "-aq", "--no-trunc").stdout.split())
    tmp_root = os.path.join(daemon.root, "tmp")
    with pytest.raises(Exception) as failure:
        for _ in api.build(fileobj=hostile_context(entries), custom_context=True, tag="hostile:1", decode=True):
            pass
    assert "build context" in str(failure.value)
    assert set(daemon.docker("images", "-aq", "--no-trunc").stdout.split()) == before
    assert not any(name.startswith("build-context") for name in os.listdir(tmp_root))
    assert not os.path.exists("/escaped.txt") and not os.path.exists("/abs/escaped.txt")


def test_absolute_names_in_a_context_tar_stay_inside_it(daemon):
    api = daemon.client().api
    lines = list(api.build(fileobj=hostile_context([("/abs/rooted.txt", "file", b"inside\n")]), custom_context=True,
                           tag="rooted:1", decode=True))
    assert not any("error" in line for line in lines), lines
    assert run(daemon, "rooted:1", "cat", "/ctx/abs/rooted.txt") == "inside\n"
    assert not os.path.exists("/abs/rooted.txt")
    daemon.docker("rmi", "rooted:1", check=True)


def test_kill_9_during_a_build_leaves_a_consistent_store(fresh_daemon, tmp_path):
    import time

    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo first > /first\nRUN sleep 30\n"})
    proc = subprocess.Popen(["docker", "-H", fresh_daemon.host, "build", "-t", "killed:1", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    deadline = time.time() + 60
    # The second RUN's container (the first one's comes and goes before it).
    sleeping = lambda: b"sleep 30" in fresh_daemon.docker("ps", "--no-trunc", "--format", "{{.Command}}").stdout
    while time.time() < deadline and proc.poll() is None and not sleeping():
        time.sleep(0.1)
    assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
    assert sleeping(), "the RUN step never started"
    fresh_daemon.kill9()
    proc.wait(timeout=30)
    assert proc.returncode != 0
    fresh_daemon.start()
    assert fresh_daemon.docker("image", "inspect", "killed:1").returncode != 0
    # The store is whole: the same build succeeds (the first step from the cache or again).
    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo first > /first\nRUN echo second > /second\n"})
    r = build(fresh_daemon, tmp_path, tag="killed:1")
    assert r.returncode == 0, r.stderr
    assert run(fresh_daemon, "killed:1", "cat", "/first", "/second") == "first\nsecond\n"
    for leftover in fresh_daemon.docker("ps", "-aq").stdout.split():
        fresh_daemon.docker("rm", "-f", leftover.decode())
    assert not [n for n in os.listdir(os.path.join(fresh_daemon.root, "tmp")) if n.startswith("build")]


def context_mounts(daemon):
    prefix = os.path.join(daemon.root, "tmp", "build-context-")
    with open("/proc/mounts") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(prefix) and line.split()[2] == "tmpfs"]


def test_a_context_is_unpacked_in_a_tmpfs_of_its_own_that_goes_with_the_build(daemon, tmp_path):
    import time

    write(tmp_path, {"Dockerfile": "FROM busybox\nCOPY data /data\nRUN sleep 2\n", "data": "in memory\n"})
    proc = subprocess.Popen(["docker", "-H", daemon.host, "build", "--no-cache", "-t", "ctx-mem:1", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    seen = []
    while proc.poll() is None and not seen:
        seen = context_mounts(daemon)
        time.sleep(0.05)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, output
    assert seen, "no tmpfs held the context"
    assert context_mounts(daemon) == [] and not os.path.exists(seen[0])
    assert run(daemon, "ctx-mem:1", "cat", "/data") == "in memory\n"
    daemon.docker("rmi", "ctx-mem:1", check=True)


def test_contexts_past_the_memory_allowance_are_unpacked_on_disk(busybox_tar, tmp_path):
    from berth_testlib import Daemon

    small = Daemon(extra_args=["--build-context-memory", "65536"])
    try:
        small.start()
        small.import_busybox(busybox_tar)
        # Sent larger than the allowance: on disk from the start.
        write(tmp_path / "big", {"Dockerfile": "FROM busybox\nCOPY blob /blob\n", "blob": "b" * 200_000})
        r = build(small, tmp_path / "big", tag="ctx-disk:1")
        assert r.returncode == 0, r.stderr
        assert run(small, "ctx-disk:1", "wc", "-c", "/blob").split()[0] == "200000"
        # Sent small (gzip) but larger unpacked: the tmpfs fills, and the build goes on on disk.
        body = io.BytesIO()
        with tarfile.open(fileobj=body, mode="w:gz") as tar:
            for name, content in [("Dockerfile", b"FROM busybox\nCOPY zeros /zeros\n"), ("zeros", bytes(300_000))]:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        assert len(body.getvalue()) < 65536
        body.seek(0)
        lines = list(small.client().api.build(fileobj=body, custom_context=True, encoding="gzip", tag="ctx-disk:2", decode=True))
        assert not any("error" in line for line in lines), lines
        assert run(small, "ctx-disk:2", "wc", "-c", "/zeros").split()[0] == "300000"
        assert context_mounts(small) == []
        assert not [n for n in os.listdir(os.path.join(small.root, "tmp")) if n.startswith("build-context")]
    finally:
        small.cleanup()
