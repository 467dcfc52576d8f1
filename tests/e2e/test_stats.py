"""`docker stats` against berthd: CPU, memory (with its limit), pids and block I/O from the
container's cgroups, one-shot and streaming, through the docker CLI and docker-py, on both
runtimes; a stopped container answers zeros, an unknown one 404."""
import time

import docker
import pytest

from .conftest import RUNTIMES

BUSY = ["sh", "-c", "while true; do :; done"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_docker_stats_no_stream(daemon, runtime):
    name = f"stats-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "-m", "64m", "--pids-limit", "50", "busybox", *BUSY, check=True)
    try:
        time.sleep(0.5)
        r = daemon.docker("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", name)
        assert r.returncode == 0, r.stderr
        fields = r.stdout.decode().split()
        assert fields[0] == name
        assert float(fields[1].rstrip("%")) > 20.0, fields
        assert fields[4] == "64MiB", fields
        assert fields[5] == "1"
    finally:
        daemon.docker("rm", "-f", name)


def test_docker_py_stats_one_shot_stream_and_stopped(daemon):
    client = daemon.client()
    c = client.containers.run("busybox", BUSY, detach=True, mem_limit="32m")
    try:
        s = c.stats(stream=False)
        assert s["id"] == c.id and s["name"] == "/" + c.name
        cpu, pre = s["cpu_stats"], s["precpu_stats"]
        assert cpu["cpu_usage"]["total_usage"] > pre["cpu_usage"]["total_usage"] > 0
        assert cpu["system_cpu_usage"] > pre["system_cpu_usage"] and cpu["online_cpus"] >= 1
        assert s["memory_stats"]["limit"] == 32 * 1024 * 1024 and s["memory_stats"]["usage"] > 0
        assert s["pids_stats"]["current"] >= 1
        one = client.api.stats(c.id, stream=False, one_shot=True)
        assert one["preread"] == "0001-01-01T00:00:00Z" and one["cpu_stats"]["cpu_usage"]["total_usage"] > 0
        stream = client.api.stats(c.id, stream=True, decode=True)
        first, second = next(stream), next(stream)
        assert second["precpu_stats"]["cpu_usage"]["total_usage"] == first["cpu_stats"]["cpu_usage"]["total_usage"]
        assert second["read"] > first["read"]
        stream.close()
        c.stop(timeout=0)
        stopped = c.stats(stream=False)
        assert stopped["cpu_stats"]["cpu_usage"]["total_usage"] == 0 and stopped["memory_stats"] == {}
    finally:
        c.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        client.api.stats("no-such-container", stream=False)


def test_network_counters_of_a_bridged_container(daemon):
    """eth0's traffic as the container sees it (read from the host end of its veth pair): a
    container that downloads 200 kB has received far more than it sent. A container without a
    network of its own has no `networks`, as with docker."""
    client = daemon.client()
    server = client.containers.run("busybox", ["sh", "-c", "dd if=/dev/zero of=/tmp/big bs=1k count=200 2>/dev/null; httpd -f -p 8080 -h /tmp"], detach=True)
    alone = client.containers.run("busybox", ["sleep", "60"], detach=True, network_mode="none")
    c = None
    try:
        server.reload()
        ip = server.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        c = client.containers.run("busybox", ["sh", "-c", f"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO /dev/null http://{ip}:8080/big && break; sleep 0.3; done; sleep 60"], detach=True)
        deadline = time.time() + 15
        while True:
            eth0 = client.api.stats(c.id, stream=False, one_shot=True)["networks"]["eth0"]
            if eth0["rx_bytes"] > 200_000 or time.time() > deadline:
                break
            time.sleep(0.3)
        assert eth0["rx_bytes"] > 200_000 and eth0["tx_bytes"] < eth0["rx_bytes"] // 4, eth0
        assert eth0["rx_packets"] > 10 and eth0["tx_packets"] > 5, eth0
        assert "networks" not in client.api.stats(alone.id, stream=False, one_shot=True)
        r = daemon.docker("stats", "--no-stream", "--format", "{{.NetIO}}", c.id)
        assert r.returncode == 0 and "kB" in r.stdout.decode(), r.stdout
    finally:
        for container in (server, alone, c):
            if container:
                container.remove(force=True)
