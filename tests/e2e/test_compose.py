"""docker-compose (Debian's 1.29, through its own docker-py) against berthd (issue 9): a
three-service application with two networks, an alias, a published port, a named volume and
`depends_on` comes up, answers on 127.0.0.1, finds its services by name, scales, shows its
logs, and `down -v` leaves no container, network, volume, link, namespace or rule behind."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest
from registry_testlib import free_port

COMPOSE_FILE = """\
version: "3.8"
services:
  web:
    image: busybox
    command: sh -c "echo hello-from-web > /data/index.html && httpd -f -p 80 -h /data"
    ports: ["127.0.0.1:{port}:80"]
    volumes: [data:/data]
    networks: [front]
  api:
    image: busybox
    command: sh -c "mkdir -p /www && echo api-says-hi > /www/index.html && httpd -f -p 8000 -h /www"
    networks:
      front:
        aliases: [backend]
      back: {{}}
  worker:
    image: busybox
    command: sh -c "echo worker-started; sleep 300"
    depends_on: [web, api]
    networks: [back]
volumes:
  data: {{}}
networks:
  front: {{}}
  back: {{}}
"""


def links():
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return {line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line}


def rules(daemon):
    out = subprocess.run(["nft", "list", "table", "ip", "berth_" + daemon.bridge], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip() and not line.strip().startswith(("table", "chain", "type", "}"))]


def get(url, attempts=50):
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def compose(daemon, tmp_path):
    executable = shutil.which("docker-compose")
    assert executable, "docker-compose is missing: scripts/install-deps.sh installs Debian's"
    port = free_port()
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.format(port=port))
    env = dict(os.environ, DOCKER_HOST=daemon.host, COMPOSE_PROJECT_NAME="berthapp")
    env.pop("DOCKER_CONTEXT", None)

    def run(*args, check=True):
        r = subprocess.run([executable, *args], cwd=tmp_path, env=env, capture_output=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r

    run.port = port
    try:
        yield run
    finally:
        run("down", "-v", "-t", "0", check=False)


def test_a_compose_application_comes_up_answers_scales_and_goes_away(daemon, compose):
    links_before, rules_before = links(), rules(daemon)
    compose("up", "-d")
    states = daemon.docker("ps", "-a", "--filter", "label=com.docker.compose.project=berthapp", "--format", "{{.Names}} {{.State}}",
                           check=True).stdout.decode().split("\n")
    assert sorted(filter(None, states)) == ["berthapp_api_1 running", "berthapp_web_1 running", "berthapp_worker_1 running"]
    ps = compose("ps").stdout.decode()
    assert ps.count(" Up ") + ps.count(" Up\n") >= 3 and f"127.0.0.1:{compose.port}->80/tcp" in ps, ps
    # The published port answers on the host's loopback, with the content the named volume holds.
    assert get(f"http://127.0.0.1:{compose.port}/") == b"hello-from-web\n"
    # Services find each other by service name and alias on the networks they share, and not across.
    r = compose("exec", "-T", "worker", "wget", "-qO-", "http://api:8000/")
    assert r.stdout == b"api-says-hi\n"
    r = compose("exec", "-T", "web", "wget", "-qO-", "http://backend:8000/")
    assert r.stdout == b"api-says-hi\n"
    r = compose("exec", "-T", "worker", "ping", "-c", "1", "-W", "1", "web", check=False)
    assert r.returncode != 0, "worker shares no network with web"
    assert b"worker-started" in compose("logs", "worker").stdout
    # Scale: a second api answers under the same names, round-robin.
    compose("up", "-d", "--scale", "api=2")
    r = compose("exec", "-T", "web", "nslookup", "backend", "127.0.0.11")
    answers = [line.split()[-1] for line in r.stdout.decode().split("Name:", 1)[1].splitlines() if line.startswith("Address")]
    assert len(set(answers)) == 2, r.stdout
    assert compose("exec", "-T", "worker", "wget", "-qO-", "http://api:8000/").stdout == b"api-says-hi\n"
    volume = json.loads(daemon.docker("volume", "inspect", "berthapp_data", check=True).stdout)[0]
    assert volume["Labels"]["com.docker.compose.project"] == "berthapp"

    compose("down", "-v", "-t", "0")
    assert daemon.docker("ps", "-aq", "--filter", "label=com.docker.compose.project=berthapp", check=True).stdout == b""
    names = daemon.docker("network", "ls", "--format", "{{.Name}}", check=True).stdout.decode().split()
    assert "berthapp_front" not in names and "berthapp_back" not in names
    assert daemon.docker("volume", "inspect", "berthapp_data").returncode != 0
    deadline = time.time() + 5
    while links() != links_before and time.time() < deadline:
        time.sleep(0.1)
    assert links() == links_before, links() ^ links_before
    assert rules(daemon) == rules_before
    assert os.listdir(os.path.join(daemon.exec_root, "netns")) == []
