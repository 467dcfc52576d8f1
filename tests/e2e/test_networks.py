"""Networks as objects (issue 9's control plane): the predefined bridge/host/none, user-defined
bridge networks with their address pools, labels and options, list filters, inspect, rm and
prune, docker's errors for clashes and bad input, events, and the table kept across daemon
restarts — through the docker CLI, docker-py and berth; containers on them reaching each other,
the host and published ports, and finding each other by name."""
import json
import socket
import os
import subprocess
import time

import docker
import pytest
from registry_testlib import free_port


def networks(daemon, *args):
    return json.loads(daemon.docker("network", "inspect", *args, check=True).stdout)


def test_predefined_networks_are_listed_with_docker_shapes(daemon):
    listed = daemon.docker("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}", check=True).stdout.decode().splitlines()
    assert {"bridge bridge local", "host host local", "none null local"} <= set(listed)
    bridge = networks(daemon, "bridge")[0]
    pool = bridge["IPAM"]["Config"][0]
    assert pool["Subnet"].endswith("/16") and pool["Gateway"].endswith(".1")
    assert bridge["Options"]["com.docker.network.bridge.default_bridge"] == "true"
    assert bridge["Containers"] == {} and bridge["Scope"] == "local" and len(bridge["Id"]) == 64
    assert networks(daemon, "host")[0]["IPAM"]["Config"] == []


def test_create_inspect_filter_and_remove_a_user_network(daemon):
    r = daemon.docker("network", "create", "--subnet", "10.123.0.0/24", "--gateway", "10.123.0.254", "--ip-range", "10.123.0.128/25",
                      "--label", "tier=front", "--opt", "com.docker.network.driver.mtu=1400", "--internal", "frontnet")
    assert r.returncode == 0, r.stderr
    created_id = r.stdout.decode().strip()
    try:
        info = networks(daemon, "frontnet")[0]
        assert info["Id"] == created_id and info["Driver"] == "bridge" and info["Internal"] is True
        assert info["IPAM"]["Config"] == [{"Subnet": "10.123.0.0/24", "Gateway": "10.123.0.254", "IPRange": "10.123.0.128/25"}]
        assert info["Labels"] == {"tier": "front"} and info["Options"]["com.docker.network.driver.mtu"] == "1400"
        assert networks(daemon, created_id[:10])[0]["Name"] == "frontnet"
        by = lambda *f: daemon.docker("network", "ls", "-q", "--no-trunc", *f, check=True).stdout.decode().split()
        assert by("--filter", "label=tier=front") == [created_id]
        assert by("--filter", "name=frontn") == [created_id]
        assert created_id in by("--filter", "type=custom") and created_id not in by("--filter", "type=builtin")
        assert created_id not in by("--filter", "driver=null")
        assert by("--filter", "dangling=true") == [created_id]
    finally:
        r = daemon.docker("network", "rm", "frontnet")
    assert r.returncode == 0 and r.stdout.decode().strip() == "frontnet"
    r = daemon.docker("network", "inspect", "frontnet")
    assert r.returncode != 0 and b"network frontnet not found" in r.stderr


def test_a_picked_subnet_avoids_the_others(daemon):
    daemon.docker("network", "create", "auto-a", check=True)
    daemon.docker("network", "create", "auto-b", check=True)
    try:
        subnets = [networks(daemon, n)[0]["IPAM"]["Config"][0]["Subnet"] for n in ["bridge", "auto-a", "auto-b"]]
        assert len(set(subnets)) == 3
        with open("/proc/net/route") as f:
            routes = [line.split()[1] for line in f.readlines()[1:]]
        assert all(s.split("/")[0] != "192.0.2.0" for s in subnets)
        assert routes  # the host's table was there to avoid
    finally:
        daemon.docker("network", "rm", "auto-a", "auto-b", check=True)


def test_clashes_and_bad_input_get_dockers_answers(daemon):
    daemon.docker("network", "create", "--subnet", "10.124.0.0/16", "clash", check=True)
    api = docker.APIClient(base_url=daemon.host, version="1.44")
    try:
        r = daemon.docker("network", "create", "clash")
        assert r.returncode != 0 and b"network with name clash already exists" in r.stderr
        with pytest.raises(docker.errors.APIError) as e:
            api.create_network("clash")
        assert e.value.status_code == 409
        r = daemon.docker("network", "create", "--subnet", "10.124.5.0/24", "inner")
        assert r.returncode != 0 and b"Pool overlaps with other one on this address space" in r.stderr
        for args in (["--subnet", "10.125.0.1/16"], ["--subnet", "10.125.0.0/16", "--gateway", "10.126.0.1"],
                     ["--subnet", "nonsense"], ["--subnet", "10.125.0.0/16", "--ip-range", "10.127.0.0/24"], ["-d", "overlay"]):
            r = daemon.docker("network", "create", *args, "badnet")
            assert r.returncode != 0, args
        r = daemon.docker("network", "create", "bad name!")
        assert r.returncode != 0 and b"invalid network name" in r.stderr
        for name in ["bridge", "host", "none"]:
            with pytest.raises(docker.errors.APIError) as e:
                api.remove_network(name)
            assert e.value.status_code == 403 and "pre-defined network" in str(e.value)
        with pytest.raises(docker.errors.NotFound):
            api.inspect_network("no-such-net")
        status = api._post(api._url("/networks/create"), data=b"{not json").status_code
        assert status == 400
        # Nothing half-made by the refusals.
        names = [n["Name"] for n in api.networks()]
        assert "badnet" not in names and "inner" not in names and names.count("clash") == 1
    finally:
        daemon.docker("network", "rm", "clash", check=True)


def test_docker_py_network_objects_and_prune(daemon):
    client = daemon.client()
    kept = client.networks.create("py-kept", labels={"keep": "yes"})
    pruned = client.networks.create("py-pruned", ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.128.0.0/24")]))
    assert client.networks.get("py-pruned").attrs["IPAM"]["Config"][0]["Subnet"] == "10.128.0.0/24"
    assert {"py-kept", "py-pruned", "bridge"} <= {n.name for n in client.networks.list()}
    result = client.networks.prune(filters={"label!": "keep=yes"})
    assert "py-pruned" in (result["NetworksDeleted"] or []) and "py-kept" not in (result["NetworksDeleted"] or [])
    assert {n.name for n in client.networks.list()} >= {"bridge", "host", "none", "py-kept"}
    kept.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get(pruned.id)


def test_network_events(daemon):
    since = str(int(time.time()) - 1)
    daemon.docker("network", "create", "evnet", check=True)
    daemon.docker("network", "rm", "evnet", check=True)
    until = str(int(time.time()) + 1)
    out = daemon.docker("events", "--since", since, "--until", until, "--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}", check=True).stdout.decode()
    assert "create evnet" in out and "destroy evnet" in out


def link_names():
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return {line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line}


def address_of(daemon, name, network):
    return json.loads(daemon.docker("inspect", name, check=True).stdout)[0]["NetworkSettings"]["Networks"][network]["IPAddress"]


def http_get(url, timeout=5):
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


@pytest.mark.parametrize("runtime", ["berth", "runc"])
def test_containers_on_a_user_network_reach_each_other_and_the_host_reaches_them(daemon, runtime):
    net = f"talk-{runtime}"
    before = link_names()
    daemon.docker("network", "create", "--subnet", "10.131.0.0/24", net, check=True)
    try:
        daemon.docker("run", "-d", "--name", f"srv-{runtime}", "--runtime", runtime, "--hostname", "server", "--network", net,
                      "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
        ip = address_of(daemon, f"srv-{runtime}", net)
        assert ip.startswith("10.131.0.") and ip != "10.131.0.1"
        info = json.loads(daemon.docker("inspect", f"srv-{runtime}", check=True).stdout)[0]["NetworkSettings"]["Networks"][net]
        assert info["Gateway"] == "10.131.0.1" and info["IPPrefixLen"] == 24
        assert info["MacAddress"] == "02:42:" + ":".join(f"{int(o):02x}" for o in ip.split("."))
        members = networks(daemon, net)[0]["Containers"]
        assert [m["IPv4Address"] for m in members.values()] == [ip + "/24"]
        r = daemon.docker("run", "--rm", "--runtime", runtime, "--network", net, "busybox",
                          "sh", "-c", f"for i in 1 2 3 4 5; do wget -qO- http://{ip}:8080/hostname && exit 0; sleep 0.2; done; exit 1")
        assert r.returncode == 0 and r.stdout == b"server\n", r.stderr
        hosts = daemon.docker("exec", f"srv-{runtime}", "cat", "/etc/hosts", check=True).stdout.decode()
        assert f"{ip}\tserver" in hosts
        assert http_get(f"http://{ip}:8080/hostname") == b"server\n"
        r = daemon.docker("network", "rm", net)
        assert r.returncode != 0 and b"has active endpoints" in r.stderr
    finally:
        daemon.docker("rm", "-f", f"srv-{runtime}")
        daemon.docker("network", "rm", net)
    # The veth pairs, namespaces and the network's bridge are gone.
    assert link_names() == before
    assert os.listdir(os.path.join(daemon.exec_root, "netns")) == []


def test_addresses_are_given_once_and_freed_when_a_container_stops(daemon):
    daemon.docker("network", "create", "--subnet", "10.132.0.0/29", "small", check=True)
    try:
        ids = [daemon.docker("run", "-d", "--network", "small", "busybox", "sleep", "60", check=True).stdout.decode().strip() for _ in range(5)]
        addresses = [json.loads(daemon.docker("inspect", i, check=True).stdout)[0]["NetworkSettings"]["Networks"]["small"]["IPAddress"] for i in ids]
        assert sorted(addresses) == [f"10.132.0.{n}" for n in range(2, 7)]
        # A /29 has five addresses for containers: the sixth is refused, clearly.
        r = daemon.docker("run", "-d", "--network", "small", "busybox", "sleep", "60")
        assert r.returncode != 0 and b"no available IPv4 addresses" in r.stderr
        daemon.docker("stop", "-t", "0", ids[0], check=True)
        again = daemon.docker("run", "-d", "--network", "small", "busybox", "sleep", "60", check=True).stdout.decode().strip()
        assert address_of(daemon, again, "small") == addresses[0]
        ids.append(again)
        # The stopped one cannot come back while its address is someone else's and no other is free.
        r = daemon.docker("start", ids[0])
        assert r.returncode != 0 and b"no available IPv4 addresses" in r.stderr
        assert json.loads(daemon.docker("inspect", ids[0], check=True).stdout)[0]["State"]["Running"] is False
    finally:
        for cid in daemon.docker("ps", "-aq").stdout.decode().split():
            info = json.loads(daemon.docker("inspect", cid).stdout)[0]
            if info["HostConfig"]["NetworkMode"] == "small":
                daemon.docker("rm", "-f", cid)
        daemon.docker("network", "rm", "small", check=True)


def test_unknown_networks_are_404(daemon):
    # Through the API: the docker CLI answers a 404 from create by trying to pull.
    api = docker.APIClient(base_url=daemon.host, version="1.44")
    with pytest.raises(docker.errors.NotFound) as e:
        api.create_container("busybox", "true", host_config=api.create_host_config(network_mode="missing-net"))
    assert "network missing-net not found" in str(e.value)
    daemon.docker("network", "create", "nojoin", check=True)
    try:
        r = daemon.docker("network", "connect", "nojoin", "x")
        assert r.returncode != 0 and b"No such container: x" in r.stderr
    finally:
        daemon.docker("network", "rm", "nojoin", check=True)


def test_a_container_keeps_its_network_across_a_daemon_kill(fresh_daemon):
    d = fresh_daemon
    d.docker("run", "-d", "--name", "steady", "--network", "bridge", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
    ip = address_of(d, "steady", "bridge")
    assert http_get(f"http://{ip}:8080/hostname")
    d.kill9()
    d.start()
    assert http_get(f"http://{ip}:8080/hostname")
    assert address_of(d, "steady", "bridge") == ip
    other = d.docker("run", "-d", "--network", "bridge", "busybox", "sleep", "30", check=True).stdout.decode().strip()
    assert address_of(d, other, "bridge") != ip
    d.docker("rm", "-f", "steady", other, check=True)
    assert os.listdir(os.path.join(d.exec_root, "netns")) == []


def test_berth_network_commands(daemon):
    r = daemon.berth("network", "create", "--subnet", "10.129.0.0/24", "--label", "a=b", "berthnet")
    assert r.returncode == 0, r.stderr
    try:
        table = daemon.berth("network", "ls", check=True).stdout.decode()
        assert "NETWORK ID" in table and "berthnet" in table and "bridge" in table
        assert daemon.berth("network", "inspect", "-f", "{{json .Labels}}", "berthnet", check=True).stdout.decode().strip() == '{"a":"b"}'
        r = daemon.berth("network", "rm", "bridge")
        assert r.returncode != 0 and b"pre-defined network" in r.stderr
        r = daemon.berth("network", "inspect", "nope-net")
        assert r.returncode != 0
    finally:
        daemon.berth("network", "rm", "berthnet", check=True)
    assert b"berthnet" not in daemon.berth("network", "ls", "-q", check=True).stdout


def test_the_table_survives_a_daemon_restart(fresh_daemon):
    d = fresh_daemon
    created = d.docker("network", "create", "--subnet", "10.130.0.0/24", "lasting", check=True).stdout.decode().strip()
    bridge_id = networks(d, "bridge")[0]["Id"]
    d.kill9()
    d.start()
    assert networks(d, "lasting")[0]["Id"] == created
    assert networks(d, "bridge")[0]["Id"] == bridge_id
    r = d.docker("network", "create", "--subnet", "10.130.0.0/25", "again")
    assert r.returncode != 0 and b"Pool overlaps" in r.stderr


def nft_table(daemon):
    return subprocess.run(["nft", "list", "table", "ip", "berth_" + daemon.bridge], capture_output=True, text=True).stdout


@pytest.mark.parametrize("runtime", ["berth", "runc"])
def test_published_ports_answer_on_loopback_and_through_the_gateway(daemon, runtime):
    port = free_port()
    name = f"web-{runtime}"
    daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "--network", "bridge", "--hostname", "webhost",
                  "-p", f"{port}:8080", "-p", "8081", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
    try:
        ports = json.loads(daemon.docker("inspect", name, check=True).stdout)[0]["NetworkSettings"]["Ports"]
        assert ports["8080/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(port)}]
        random_port = int(ports["8081/tcp"][0]["HostPort"])
        low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
        assert low <= random_port <= high
        assert daemon.docker("port", name, "8080/tcp", check=True).stdout.decode().strip() == f"0.0.0.0:{port}"
        assert f"0.0.0.0:{port}->8080/tcp" in daemon.docker("ps", "--filter", f"name={name}", "--format", "{{.Ports}}", check=True).stdout.decode()
        summary = docker.APIClient(base_url=daemon.host, version="1.44").containers(filters={"name": name})[0]["Ports"]
        assert {"IP": "0.0.0.0", "PrivatePort": 8080, "PublicPort": port, "Type": "tcp"} in summary
        for _ in range(20):
            try:
                assert http_get(f"http://127.0.0.1:{port}/hostname") == b"webhost\n"
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the published port did not answer on 127.0.0.1")
        gateway = networks(daemon, "bridge")[0]["IPAM"]["Config"][0]["Gateway"]
        r = daemon.docker("run", "--rm", "--runtime", runtime, "--network", "bridge", "busybox", "timeout", "10", "wget", "-qO-", f"http://{gateway}:{port}/hostname")
        assert r.returncode == 0 and r.stdout == b"webhost\n", r.stderr
        assert f"tcp . {port} : " in nft_table(daemon)
    finally:
        daemon.docker("rm", "-f", name)
    assert f". {port} : " not in nft_table(daemon)
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{port}/hostname", timeout=2)


def test_a_taken_host_port_is_refused_and_nothing_is_left(daemon):
    holder = socket.socket()
    holder.bind(("0.0.0.0", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    before = link_names()
    try:
        r = daemon.docker("run", "-d", "--name", "clash-port", "--network", "bridge", "-p", f"{port}:80", "busybox", "sleep", "30")
        assert r.returncode != 0 and f"Bind for 0.0.0.0:{port} failed: port is already allocated".encode() in r.stderr
        assert link_names() == before
        assert f". {port} : " not in nft_table(daemon)
        assert os.listdir(os.path.join(daemon.exec_root, "netns")) == []
    finally:
        holder.close()
        daemon.docker("rm", "-f", "clash-port")
    api = docker.APIClient(base_url=daemon.host, version="1.44")
    for bindings in ({"nonsense/tcp": [{"HostPort": "1"}]}, {"80/carrier-pigeon": None}, {"80/tcp": [{"HostPort": "x"}]},
                     {"80/tcp": [{"HostIp": "not-an-ip", "HostPort": "1"}]}):
        with pytest.raises(docker.errors.APIError) as e:
            api.create_container("busybox", "true", host_config={"NetworkMode": "bridge", "PortBindings": bindings})
        assert e.value.status_code == 400, bindings


def test_publish_all_uses_every_exposed_port(daemon):
    cid = daemon.docker("run", "-d", "--network", "bridge", "--expose", "9000", "--expose", "9001/udp", "-P", "busybox", "sleep", "30",
                        check=True).stdout.decode().strip()
    try:
        ports = json.loads(daemon.docker("inspect", cid, check=True).stdout)[0]["NetworkSettings"]["Ports"]
        assert set(ports) == {"9000/tcp", "9001/udp"} and all(ports[k][0]["HostPort"].isdigit() for k in ports)
        table = nft_table(daemon)
        assert f"udp . {ports['9001/udp'][0]['HostPort']} : " in table and f"tcp . {ports['9000/tcp'][0]['HostPort']} : " in table
    finally:
        daemon.docker("rm", "-f", cid)


def test_networks_are_isolated_from_each_other(daemon):
    daemon.docker("network", "create", "--subnet", "10.133.0.0/24", "iso-a", check=True)
    daemon.docker("network", "create", "--subnet", "10.134.0.0/24", "iso-b", check=True)
    try:
        daemon.docker("run", "-d", "--name", "iso-srv", "--network", "iso-b", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
        ip = address_of(daemon, "iso-srv", "iso-b")
        same = daemon.docker("run", "--rm", "--network", "iso-b", "busybox", "sh", "-c",
                             f"for i in 1 2 3 4 5; do timeout 3 wget -qO- http://{ip}:8080/hostname && exit 0; sleep 0.2; done; exit 1")
        assert same.returncode == 0
        other = daemon.docker("run", "--rm", "--network", "iso-a", "busybox", "sh", "-c", f"timeout 3 wget -qO- http://{ip}:8080/hostname || exit 1")
        assert other.returncode != 0
    finally:
        daemon.docker("rm", "-f", "iso-srv")
        daemon.docker("network", "rm", "iso-a", "iso-b", check=True)


def test_a_published_port_survives_a_daemon_kill(fresh_daemon):
    d = fresh_daemon
    port = free_port()
    d.docker("run", "-d", "--name", "kept-port", "--network", "bridge", "-p", f"{port}:8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
    for _ in range(20):
        try:
            http_get(f"http://127.0.0.1:{port}/hostname")
            break
        except OSError:
            time.sleep(0.1)
    d.kill9()
    assert http_get(f"http://127.0.0.1:{port}/hostname")
    d.start()
    assert http_get(f"http://127.0.0.1:{port}/hostname")
    assert f"tcp . {port} : " in nft_table(d)
    d.docker("rm", "-f", "kept-port", check=True)
    assert f". {port} : " not in nft_table(d)


def lookup(daemon, network, name):
    """The addresses busybox nslookup gets for `name` from inside a container on `network`."""
    r = daemon.docker("run", "--rm", "--network", network, "busybox", "nslookup", "-type=a", name, "127.0.0.11")
    out = r.stdout.decode()
    answers = out.split("Name:", 1)[1] if "Name:" in out else ""
    return r.returncode, [line.split()[-1] for line in answers.splitlines() if line.startswith("Address")]


def test_names_and_aliases_resolve_on_a_user_network(daemon):
    daemon.docker("network", "create", "--subnet", "10.135.0.0/24", "dns-net", check=True)
    try:
        daemon.docker("run", "-d", "--name", "dns-a", "--network", "dns-net", "--network-alias", "svc", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
        daemon.docker("run", "-d", "--name", "dns-b", "--network", "dns-net", "--network-alias", "svc", "busybox", "sleep", "60", check=True)
        a = address_of(daemon, "dns-a", "dns-net")
        b = address_of(daemon, "dns-b", "dns-net")
        assert lookup(daemon, "dns-net", "dns-a")[1] == [a]
        assert lookup(daemon, "dns-net", "DNS-B")[1] == [b]
        assert sorted(lookup(daemon, "dns-net", "svc")[1]) == sorted([a, b])
        short = json.loads(daemon.docker("inspect", "dns-a", check=True).stdout)[0]["Id"][:12]
        assert lookup(daemon, "dns-net", short)[1] == [a]
        info = json.loads(daemon.docker("inspect", "dns-a", check=True).stdout)[0]["NetworkSettings"]["Networks"]["dns-net"]
        assert info["Aliases"] == ["svc"] and "dns-a" in info["DNSNames"]
        r = daemon.docker("run", "--rm", "--network", "dns-net", "busybox", "sh", "-c", "cat /etc/resolv.conf; wget -qO- http://dns-a:8080/hostname")
        assert r.returncode == 0 and b"nameserver 127.0.0.11" in r.stdout, r.stderr
        # A container that leaves is gone from the answers at once.
        daemon.docker("rm", "-f", "dns-b", check=True)
        assert lookup(daemon, "dns-net", "svc")[1] == [a]
        assert lookup(daemon, "dns-net", "dns-b")[1] == []
        # docker-py's networking config carries aliases too.
        api = docker.APIClient(base_url=daemon.host, version="1.44")
        created = api.create_container("busybox", ["sleep", "60"], name="dns-c", host_config=api.create_host_config(network_mode="dns-net"),
                                       networking_config=api.create_networking_config({"dns-net": api.create_endpoint_config(aliases=["other"])}))
        api.start(created["Id"])
        assert lookup(daemon, "dns-net", "other")[1] == [address_of(daemon, "dns-c", "dns-net")]
    finally:
        daemon.docker("rm", "-f", "dns-a", "dns-b", "dns-c")
        daemon.docker("network", "rm", "dns-net", check=True)


def test_the_default_bridge_has_no_resolver(daemon):
    r = daemon.docker("run", "--rm", "busybox", "cat", "/etc/resolv.conf", check=True)
    assert b"127.0.0.11" not in r.stdout
    assert json.loads(daemon.docker("inspect", "-f", "{{json .HostConfig.NetworkMode}}", daemon.docker("create", "busybox", "true", check=True).stdout.decode().strip(), check=True).stdout) == "bridge"


def test_names_resolve_after_a_daemon_kill(fresh_daemon):
    d = fresh_daemon
    d.docker("network", "create", "--subnet", "10.136.0.0/24", "dns-kept", check=True)
    d.docker("run", "-d", "--name", "named", "--network", "dns-kept", "busybox", "sleep", "120", check=True)
    ip = address_of(d, "named", "dns-kept")
    d.kill9()
    d.start()
    r = d.docker("exec", "named", "nslookup", "-type=a", "named", "127.0.0.11")
    assert r.returncode == 0 and ip in r.stdout.decode(), r.stdout + r.stderr
    d.docker("rm", "-f", "named", check=True)
    d.docker("network", "rm", "dns-kept", check=True)


def test_add_host_and_dns_settings_reach_the_container_files(daemon):
    gateway = networks(daemon, "bridge")[0]["IPAM"]["Config"][0]["Gateway"]
    r = daemon.docker("run", "--rm", "--add-host", "db:10.1.2.3", "--add-host", "gw:host-gateway", "--dns", "10.9.9.9",
                      "--dns-search", "example.test", "--dns-option", "timeout:2", "busybox", "cat", "/etc/hosts", "/etc/resolv.conf")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "10.1.2.3\tdb\n" in out and f"{gateway}\tgw\n" in out
    assert "nameserver 10.9.9.9\n" in out and "search example.test\n" in out and "options timeout:2\n" in out
    info = json.loads(daemon.docker("inspect", daemon.docker("create", "--dns", "10.9.9.9", "--dns-search", "a.test", "busybox", "true", check=True).stdout.decode().strip(), check=True).stdout)[0]
    assert info["HostConfig"]["Dns"] == ["10.9.9.9"] and info["HostConfig"]["DnsSearch"] == ["a.test"]
    daemon.docker("rm", info["Id"], check=True)
    api = docker.APIClient(base_url=daemon.host, version="1.44")
    with pytest.raises(docker.errors.APIError) as e:
        api.create_container("busybox", "true", host_config={"ExtraHosts": ["no-address"]})
    assert e.value.status_code == 400 and "add-host" in str(e.value)
