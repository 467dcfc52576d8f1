"""Bad input on the paths this client adds: the Engine API's pull, push and login endpoints and
the CLI's login and pull flags. Each gets a clear error with docker's status or exit code and
changes nothing stored."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
from test_hostile import request  # noqa: E402

from .test_pull import image_list, small_layout, text  # noqa: E402


def test_bad_pull_requests_are_400_and_change_nothing(daemon, registry, busybox_tar, workdir, repo):
    registry.push_layout(small_layout(workdir, busybox_tar), repo)
    ref = registry.ref(repo).rsplit(":", 1)[0]
    before = image_list(daemon)
    for query, headers, expected in [
        (f"fromImage={ref}&tag=1&platform=nonsense", {}, "invalid platform"),
        (f"fromImage={ref}&tag=1", {"X-Registry-Auth": "!!not base64!!"}, "X-Registry-Auth is not base64"),
        (f"fromImage={ref}&tag=1", {"X-Registry-Auth": base64.urlsafe_b64encode(b"[1,2]").decode()}, "X-Registry-Auth is not the JSON"),
        ("fromImage=example/UPPER&tag=1", {}, "repository name must be lowercase"),
        ("fromImage=", {}, "fromImage is required"),
    ]:
        status, body = request(daemon, "POST", f"/v1.44/images/create?{query}", headers=headers)
        assert status == 400, (query, status, body)
        assert expected in json.loads(body)["message"], body
    assert image_list(daemon) == before


def test_login_requests_with_bad_bodies(daemon, basic_registry):
    status, body = request(daemon, "POST", "/v1.44/auth", body=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and "invalid login request" in json.loads(body)["message"]
    wrong = json.dumps({"username": "nobody", "password": "wrong", "serveraddress": basic_registry.host}).encode()
    status, body = request(daemon, "POST", "/v1.44/auth", body=wrong, headers={"Content-Type": "application/json"})
    assert status == 401 and "incorrect username or password" in json.loads(body)["message"]


def test_push_by_digest_is_refused_in_the_stream(daemon, registry, repo):
    digest = "sha256:" + "0" * 64
    r = daemon.docker("push", f"{registry.host}/{repo}@{digest}")
    assert r.returncode != 0
    assert "tag" in text(r).lower() or "reference" in text(r).lower(), text(r)


def test_berth_login_flag_mistakes(daemon, basic_registry, docker_config):
    env = {"DOCKER_CONFIG": docker_config}
    both = daemon.berth("login", "-u", "a", "-p", "b", "--password-stdin", basic_registry.host, env=env)
    assert both.returncode == 125 and "mutually exclusive" in text(both)
    no_user = daemon.berth("login", "--password-stdin", basic_registry.host, input=b"x\n", env=env)
    assert no_user.returncode == 125 and "Must provide --username" in text(no_user)
    # Nothing was written.
    assert not os.path.exists(os.path.join(docker_config, "config.json"))


def test_berth_pull_of_a_malformed_reference(daemon):
    r = daemon.berth("pull", "Not/A:Valid:Ref")
    assert r.returncode == 1 and "invalid reference format" in text(r)
