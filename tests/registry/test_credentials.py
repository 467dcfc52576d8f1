"""Where logins are kept and what is presented to registries: identity tokens (OAuth refresh
tokens) from a token service that issues them, and docker credential helpers (`credsStore`,
`credHelpers`) run as the real programs docker runs, speaking docker's helper protocol. The
docker CLI is the reference: it keeps an identity token instead of the password, and leaves an
empty `auths` entry when a helper holds the secret."""
import base64
import json
import os
import stat
import textwrap

import pytest

from .conftest import PASSWORD, USER, Registry, require_tools
from .test_pull import assert_runs_marker, inspect, small_layout, text


@pytest.fixture(scope="module")
def oauth_registry():
    """docker-registry with token auth whose token server hands out refresh tokens."""
    require_tools()
    with Registry(htpasswd={USER: PASSWORD}, token_auth=True, public=(), refresh_tokens=True) as r:
        yield r


def config_entry(config_dir, host):
    with open(os.path.join(config_dir, "config.json")) as f:
        return json.load(f)["auths"].get(host)


def write_config(config_dir, document):
    with open(os.path.join(config_dir, "config.json"), "w") as f:
        json.dump(document, f)


def berth_login(daemon, registry, config_dir, password=PASSWORD, env=None):
    return daemon.berth("login", registry.host, "-u", USER, "--password-stdin", input=password.encode(),
                        env=dict({"DOCKER_CONFIG": config_dir}, **(env or {})))


def token_posts(registry):
    """The refresh-token grants the token server answered, as (status, refresh token) pairs."""
    return [(status, q.get("refresh_token", [""])[0]) for method, q, user, status in registry.token_server.requests
            if method == "POST" and q.get("grant_type") == ["refresh_token"]]


# ---------------------------------------------------------------------------------------------
# identity tokens


@pytest.mark.parametrize("client", ["berth", "docker"])
def test_login_keeps_the_identity_token_instead_of_the_password(daemon, oauth_registry, busybox_tar, docker_config,
                                                                workdir, repo, client):
    layout = small_layout(workdir, busybox_tar)
    oauth_registry.push_layout(layout, repo)
    ref = oauth_registry.ref(repo)
    if client == "berth":
        r = berth_login(daemon, oauth_registry, docker_config)
    else:
        r = daemon.docker("login", oauth_registry.host, "-u", USER, "--password-stdin", input=PASSWORD.encode(),
                          env={"DOCKER_CONFIG": docker_config})
    assert r.returncode == 0 and "Login Succeeded" in r.stdout.decode(), text(r)
    entry = config_entry(docker_config, oauth_registry.host)
    token = entry.get("identitytoken")
    assert token and token in oauth_registry.token_server._refresh, entry
    assert PASSWORD not in json.dumps(entry), "the password was stored beside the identity token"
    assert base64.b64decode(entry["auth"]).decode() == USER + ":"

    before = len(token_posts(oauth_registry))
    if client == "berth":
        r = daemon.berth("pull", ref, env={"DOCKER_CONFIG": docker_config}, timeout=120)
    else:
        r = daemon.docker("pull", ref, env={"DOCKER_CONFIG": docker_config}, timeout=120)
    assert r.returncode == 0, text(r)
    assert inspect(daemon, ref)["Id"] == layout.config_digest
    assert (200, token) in token_posts(oauth_registry)[before:], "the pull did not trade the identity token"
    assert_runs_marker(daemon, ref)


def test_an_identity_token_the_service_does_not_know_is_refused(daemon, oauth_registry, busybox_tar, docker_config,
                                                                workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    oauth_registry.push_layout(layout, repo)
    ref = oauth_registry.ref(repo)
    write_config(docker_config, {"auths": {oauth_registry.host: {
        "auth": base64.b64encode(f"{USER}:".encode()).decode(), "identitytoken": "revoked-or-made-up"}}})
    r = daemon.berth("pull", ref, env={"DOCKER_CONFIG": docker_config}, timeout=60)
    assert r.returncode != 0, text(r)
    assert "identity token" in r.stderr.decode(), text(r)
    assert daemon.docker("image", "inspect", ref).returncode != 0


# ---------------------------------------------------------------------------------------------
# credential helpers

HELPER = textwrap.dedent("""\
    #!/usr/bin/env python3
    # docker's credential helper protocol, keeping secrets in a JSON file beside the helper.
    import json, os, sys
    store = os.path.join(os.path.dirname(os.path.abspath(__file__)), "secrets.json")
    secrets = json.load(open(store)) if os.path.exists(store) else {}
    with open(store + ".log", "a") as log:
        log.write(sys.argv[1] + "\\n")
    action, data = sys.argv[1], sys.stdin.read()
    if action == "store":
        entry = json.loads(data)
        secrets[entry["ServerURL"]] = {"Username": entry["Username"], "Secret": entry["Secret"]}
    elif action in ("get", "erase"):
        server = data.strip()
        if server not in secrets:
            print("credentials not found in native keychain")
            sys.exit(1)
        if action == "get":
            print(json.dumps(dict(secrets[server], ServerURL=server)))
            sys.exit(0)
        del secrets[server]
    else:
        print("unknown action"); sys.exit(1)
    json.dump(secrets, open(store, "w"))
    """)


@pytest.fixture
def helper_dir(workdir):
    """A PATH directory holding docker-credential-berthtest; its secrets land in secrets.json."""
    path = os.path.join(workdir, "helpers")
    os.makedirs(path)
    program = os.path.join(path, "docker-credential-berthtest")
    with open(program, "w") as f:
        f.write(HELPER)
    os.chmod(program, stat.S_IRWXU)
    return path


def helper_env(config_dir, helper_dir):
    return {"DOCKER_CONFIG": config_dir, "PATH": helper_dir + ":" + os.environ["PATH"]}


def helper_secrets(helper_dir):
    path = os.path.join(helper_dir, "secrets.json")
    return json.load(open(path)) if os.path.exists(path) else {}


@pytest.mark.parametrize("key", ["credsStore", "credHelpers"])
def test_credential_helper_keeps_the_login(daemon, basic_registry, busybox_tar, docker_config, helper_dir, workdir,
                                           repo, key):
    layout = small_layout(workdir, busybox_tar)
    basic_registry.push_layout(layout, repo)
    ref = basic_registry.ref(repo)
    write_config(docker_config, {key: "berthtest"} if key == "credsStore"
                 else {key: {basic_registry.host: "berthtest"}, "detachKeys": "ctrl-x"})
    env = helper_env(docker_config, helper_dir)

    r = berth_login(daemon, basic_registry, docker_config, env=env)
    assert r.returncode == 0, text(r)
    assert helper_secrets(helper_dir) == {basic_registry.host: {"Username": USER, "Secret": PASSWORD}}
    assert config_entry(docker_config, basic_registry.host) == {}, "the secret belongs in the helper only"
    with open(os.path.join(docker_config, "config.json")) as f:
        document = json.load(f)
    assert PASSWORD not in json.dumps(document)
    if key == "credHelpers":
        assert document["detachKeys"] == "ctrl-x", "other keys of config.json must survive"

    r = daemon.berth("pull", ref, env=env, timeout=120)
    assert r.returncode == 0, text(r)
    assert inspect(daemon, ref)["Id"] == layout.config_digest
    assert_runs_marker(daemon, ref)

    r = daemon.berth("logout", basic_registry.host, env=env)
    assert r.returncode == 0 and "Removing login credentials" in r.stdout.decode(), text(r)
    assert helper_secrets(helper_dir) == {}
    assert config_entry(docker_config, basic_registry.host) is None
    r = daemon.berth("logout", basic_registry.host, env=env)
    assert r.returncode == 0 and "Not logged in" in r.stdout.decode(), text(r)
    with open(os.path.join(helper_dir, "secrets.json.log")) as f:
        assert f.read().split() == ["store", "get", "erase", "erase"]


def test_credential_helper_holds_an_identity_token(daemon, oauth_registry, busybox_tar, docker_config, helper_dir,
                                                   workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    oauth_registry.push_layout(layout, repo)
    ref = oauth_registry.ref(repo)
    write_config(docker_config, {"credsStore": "berthtest"})
    env = helper_env(docker_config, helper_dir)
    r = berth_login(daemon, oauth_registry, docker_config, env=env)
    assert r.returncode == 0, text(r)
    stored = helper_secrets(helper_dir)[oauth_registry.host]
    assert stored["Username"] == "<token>" and stored["Secret"] in oauth_registry.token_server._refresh, stored
    before = len(token_posts(oauth_registry))
    r = daemon.berth("pull", ref, env=env, timeout=120)
    assert r.returncode == 0, text(r)
    assert (200, stored["Secret"]) in token_posts(oauth_registry)[before:]


def test_a_missing_credential_helper_is_named(daemon, registry, busybox_tar, docker_config, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    write_config(docker_config, {"credHelpers": {registry.host: "not-installed"}})
    r = daemon.berth("pull", ref, env={"DOCKER_CONFIG": docker_config}, timeout=60)
    assert r.returncode != 0, text(r)
    assert "docker-credential-not-installed" in r.stderr.decode() and "PATH" in r.stderr.decode(), text(r)
    assert daemon.docker("image", "inspect", ref).returncode != 0


def test_a_credential_helper_that_answers_garbage_is_named(daemon, registry, busybox_tar, docker_config, helper_dir,
                                                           workdir, repo):
    program = os.path.join(helper_dir, "docker-credential-berthtest")
    with open(program, "w") as f:
        f.write("#!/bin/sh\necho 'this is not json'\n")
    write_config(docker_config, {"credsStore": "berthtest"})
    ref = registry.ref(repo)
    r = daemon.berth("pull", ref, env=helper_env(docker_config, helper_dir), timeout=60)
    assert r.returncode != 0, text(r)
    assert "docker-credential-berthtest" in r.stderr.decode() and "not its JSON" in r.stderr.decode(), text(r)


def test_pull_with_anonymous_access_still_works_when_the_helper_has_nothing(daemon, registry, busybox_tar,
                                                                             docker_config, helper_dir, workdir, repo):
    layout = small_layout(workdir, busybox_tar)
    registry.push_layout(layout, repo)
    ref = registry.ref(repo)
    write_config(docker_config, {"credsStore": "berthtest"})
    r = daemon.berth("pull", ref, env=helper_env(docker_config, helper_dir), timeout=120)
    assert r.returncode == 0, text(r)
    assert inspect(daemon, ref)["Id"] == layout.config_digest
