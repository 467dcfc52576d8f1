"""Containers on several networks (issue 9): `network connect`/`disconnect` of running and
stopped containers through the docker CLI, docker-py and berth, static addresses (`--ip`,
`--ip6`), dual-stack IPv6 networks, `--network container:<id>`, legacy `--link`, and
`enable_icc=false`. Reachability is checked
from inside the containers (busybox ping, wget, nslookup against 127.0.0.11), and what the
tests made (links, namespaces, firewall tables) is counted before and after."""
import json
import os
import subprocess
import time

import docker
import pytest
from registry_testlib import free_port


def inspect(daemon, name):
    return json.loads(daemon.docker("inspect", name, check=True).stdout)[0]


def link_names():
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return {line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line}


def settle(predicate, seconds=5):
    """Waits for the kernel to finish what is taken down off the caller's path."""
    deadline = time.time() + seconds
    while not predicate() and time.time() < deadline:
        time.sleep(0.1)
    return predicate()


def pings(daemon, container, target):
    return daemon.docker("exec", container, "ping", "-c", "1", "-W", "1", target).returncode == 0


@pytest.mark.parametrize("runtime", ["berth", "runc"])
def test_connect_and_disconnect_change_reachability_at_once(daemon, runtime):
    a, b = f"join-a-{runtime}", f"join-b-{runtime}"
    srv, cli = f"join-srv-{runtime}", f"join-cli-{runtime}"
    before = link_names()
    daemon.docker("network", "create", "--subnet", "10.141.0.0/24", a, check=True)
    daemon.docker("network", "create", "--subnet", "10.142.0.0/24", b, check=True)
    try:
        daemon.docker("run", "-d", "--name", srv, "--runtime", runtime, "--network", a, "busybox", "sleep", "300", check=True)
        daemon.docker("run", "-d", "--name", cli, "--runtime", runtime, "--network", b, "busybox", "sleep", "300", check=True)
        assert not pings(daemon, cli, "10.141.0.2")
        daemon.docker("network", "connect", "--alias", "pal", a, cli, check=True)
        assert pings(daemon, cli, srv), "a connected container reaches the network by name at once"
        assert pings(daemon, srv, "pal"), "its alias resolves on the network it joined"
        addresses = daemon.docker("exec", cli, "ip", "-4", "-o", "addr", check=True).stdout.decode()
        assert "eth0" in addresses and "10.142.0." in addresses and "eth1" in addresses and "10.141.0." in addresses
        networks = inspect(daemon, cli)["NetworkSettings"]["Networks"]
        assert set(networks) == {a, b}
        assert networks[a]["IPAddress"].startswith("10.141.0.") and "pal" in networks[a]["Aliases"]
        members = json.loads(daemon.docker("network", "inspect", a, check=True).stdout)[0]["Containers"]
        assert {m["Name"] for m in members.values()} == {srv, cli}
        # The default route stays on the first network; the new one is reached directly.
        routes = daemon.docker("exec", cli, "ip", "route", check=True).stdout.decode()
        assert "default via 10.142.0.1 dev eth0" in routes

        daemon.docker("network", "disconnect", a, cli, check=True)
        assert not pings(daemon, cli, "10.141.0.2"), "a disconnected container no longer reaches the network"
        assert daemon.docker("exec", srv, "nslookup", "pal", "127.0.0.11").returncode != 0
        assert set(inspect(daemon, cli)["NetworkSettings"]["Networks"]) == {b}
        # Off every network and back: the container keeps its namespace and can join again.
        daemon.docker("network", "disconnect", b, cli, check=True)
        assert "eth" not in daemon.docker("exec", cli, "ip", "-o", "link", check=True).stdout.decode()
        daemon.docker("network", "connect", a, cli, check=True)
        assert pings(daemon, cli, srv)
        routes = daemon.docker("exec", cli, "ip", "route", check=True).stdout.decode()
        assert "default via 10.141.0.1" in routes
    finally:
        daemon.docker("rm", "-f", srv, cli)
        daemon.docker("network", "rm", a, b)
    assert settle(lambda: link_names() == before), link_names() ^ before
    assert os.listdir(os.path.join(daemon.exec_root, "netns")) == []


def test_a_created_container_joins_every_connected_network_at_start(daemon):
    api = docker.APIClient(base_url=daemon.host, version="1.44")
    daemon.docker("network", "create", "--subnet", "10.143.0.0/24", "pre-a", check=True)
    daemon.docker("network", "create", "--subnet", "10.144.0.0/24", "pre-b", check=True)
    try:
        created = api.create_container("busybox", ["sleep", "300"], name="pre-c", host_config=api.create_host_config(network_mode="pre-a"))
        api.connect_container_to_network(created["Id"], "pre-b", aliases=["bee"], ipv4_address="10.144.0.77")
        networks = api.inspect_container(created["Id"])["NetworkSettings"]["Networks"]
        assert set(networks) == {"pre-a", "pre-b"} and networks["pre-b"]["IPAddress"] == ""
        assert networks["pre-b"]["IPAMConfig"] == {"IPv4Address": "10.144.0.77"}
        api.start(created["Id"])
        networks = api.inspect_container(created["Id"])["NetworkSettings"]["Networks"]
        assert networks["pre-a"]["IPAddress"].startswith("10.143.0.") and networks["pre-b"]["IPAddress"] == "10.144.0.77"
        r = daemon.docker("run", "--rm", "--network", "pre-b", "busybox", "nslookup", "bee", "127.0.0.11")
        assert r.returncode == 0 and "10.144.0.77" in r.stdout.decode()
        # Stopped: a disconnect only changes what the next start joins.
        api.stop(created["Id"], timeout=0)
        api.disconnect_container_from_network(created["Id"], "pre-a")
        api.start(created["Id"])
        networks = api.inspect_container(created["Id"])["NetworkSettings"]["Networks"]
        assert set(networks) == {"pre-b"}
        assert daemon.docker("exec", "pre-c", "ip", "-o", "link", "show", "eth1").returncode != 0
    finally:
        daemon.docker("rm", "-f", "pre-c")
        daemon.docker("network", "rm", "pre-a", "pre-b")


def test_connect_and_disconnect_refusals(daemon):
    daemon.docker("network", "create", "--subnet", "10.145.0.0/24", "ref-net", check=True)
    try:
        daemon.docker("run", "-d", "--name", "ref-c", "--network", "ref-net", "busybox", "sleep", "300", check=True)
        daemon.docker("run", "-d", "--name", "ref-host", "--network", "host", "busybox", "sleep", "300", check=True)
        daemon.docker("create", "--name", "ref-none", "--network", "none", "busybox", "true", check=True)
        r = daemon.docker("network", "connect", "ref-net", "ref-c")
        assert r.returncode == 1 and b"endpoint with name ref-c already exists in network ref-net" in r.stderr
        r = daemon.docker("network", "connect", "ref-net", "ref-host")
        assert r.returncode == 1 and b"container cannot be disconnected from host network or connected to host network" in r.stderr
        r = daemon.docker("network", "connect", "ref-net", "ref-none")
        assert r.returncode == 1 and b"private (none) mode" in r.stderr
        r = daemon.docker("network", "disconnect", "bridge", "ref-c")
        assert r.returncode == 1 and b"is not connected to network bridge" in r.stderr
        r = daemon.docker("network", "connect", "ref-net", "no-such-container")
        assert r.returncode == 1 and b"No such container: no-such-container" in r.stderr
        r = daemon.docker("network", "connect", "no-such-net", "ref-c")
        assert r.returncode == 1 and b"network no-such-net not found" in r.stderr
        # A refused connect changed nothing.
        assert set(inspect(daemon, "ref-c")["NetworkSettings"]["Networks"]) == {"ref-net"}
        # berth's own commands.
        daemon.docker("create", "--name", "ref-late", "busybox", "true", check=True)
        daemon.berth("network", "connect", "--ip", "10.145.0.50", "--alias", "late", "ref-net", "ref-late", check=True)
        late = inspect(daemon, "ref-late")["NetworkSettings"]["Networks"]
        assert set(late) == {"bridge", "ref-net"} and late["ref-net"]["IPAMConfig"] == {"IPv4Address": "10.145.0.50"} and late["ref-net"]["Aliases"] == ["late"]
        daemon.berth("network", "disconnect", "ref-net", "ref-late", check=True)
        assert set(inspect(daemon, "ref-late")["NetworkSettings"]["Networks"]) == {"bridge"}
        r = daemon.berth("network", "disconnect", "ref-net", "ref-late")
        assert r.returncode != 0 and b"is not connected to network ref-net" in r.stderr
        # Hostile bodies.
        api = docker.APIClient(base_url=daemon.host, version="1.44")
        for body in [b"{", b"[]", b'{"Container": 5}']:
            response = api._post(api._url("/networks/ref-net/connect"), data=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (body, response.text)
    finally:
        daemon.docker("rm", "-f", "ref-c", "ref-host", "ref-none", "ref-late")
        daemon.docker("network", "rm", "ref-net")


def test_static_addresses(daemon):
    daemon.docker("network", "create", "--subnet", "10.146.0.0/24", "ip-net", check=True)
    try:
        daemon.docker("run", "-d", "--name", "ip-a", "--network", "ip-net", "--ip", "10.146.0.200", "busybox", "sleep", "300", check=True)
        assert inspect(daemon, "ip-a")["NetworkSettings"]["Networks"]["ip-net"]["IPAddress"] == "10.146.0.200"
        out = daemon.docker("exec", "ip-a", "ip", "-4", "-o", "addr", "show", "eth0", check=True).stdout.decode()
        assert "10.146.0.200/24" in out
        # Taken, outside the subnet, on the default bridge, not an address: refused, nothing left.
        r = daemon.docker("run", "--name", "ip-b", "--network", "ip-net", "--ip", "10.146.0.200", "busybox", "true")
        assert r.returncode != 0 and b"10.146.0.200 is already in use" in r.stderr
        assert inspect(daemon, "ip-b")["State"]["Status"] == "created"
        daemon.docker("rm", "ip-b", check=True)
        r = daemon.docker("run", "--rm", "--network", "ip-net", "--ip", "10.99.0.5", "busybox", "true")
        assert r.returncode != 0 and b"does not belong to any of this network's subnets" in r.stderr
        r = daemon.docker("run", "--rm", "--ip", "172.17.0.50", "busybox", "true")
        assert r.returncode != 0 and b"user specified IP address is supported on user defined networks only" in r.stderr
        r = daemon.docker("run", "--rm", "--network", "ip-net", "--ip", "10.146.0.999", "busybox", "true")
        assert r.returncode != 0
        # The address comes back when the container goes.
        daemon.docker("rm", "-f", "ip-a", check=True)
        daemon.docker("run", "--rm", "--network", "ip-net", "--ip", "10.146.0.200", "busybox", "true", check=True)
        # berth's own flags.
        r = daemon.berth("run", "--rm", "--network", "ip-net", "--ip", "10.146.0.201", "--network-alias", "bip", "busybox", "ip", "-4", "-o", "addr", "show", "eth0")
        assert r.returncode == 0 and b"10.146.0.201/24" in r.stdout, r.stderr
    finally:
        daemon.docker("rm", "-f", "ip-a", "ip-b")
        daemon.docker("network", "rm", "ip-net")


@pytest.mark.parametrize("runtime", ["berth", "runc"])
def test_a_container_can_share_another_ones_network_namespace(daemon, runtime):
    owner = f"ns-owner-{runtime}"
    try:
        daemon.docker("run", "-d", "--name", owner, "--runtime", runtime, "--hostname", "owner", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
        ip = inspect(daemon, owner)["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        r = daemon.docker("run", "--rm", "--runtime", runtime, "--network", f"container:{owner}", "busybox", "sh", "-c",
                          "ip -4 -o addr show eth0; hostname; for i in 1 2 3 4 5; do wget -qO- http://127.0.0.1:8080/hostname && exit 0; sleep 0.2; done; exit 1")
        out = r.stdout.decode()
        assert r.returncode == 0, r.stderr
        assert f"{ip}/16" in out and out.count("owner") == 2, out
        r = daemon.docker("run", "--rm", "--network", f"container:{owner}", "-p", "80:80", "busybox", "true")
        assert r.returncode != 0 and b"conflicting options: port publishing and the container type network mode" in r.stderr
        r = daemon.docker("run", "--rm", "--network", f"container:{owner}", "--hostname", "x", "busybox", "true")
        assert r.returncode != 0 and b"conflicting options: hostname and the network mode" in r.stderr
        created = daemon.docker("create", "--network", f"container:{owner}", "busybox", "true", check=True).stdout.decode().strip()
        assert inspect(daemon, created)["HostConfig"]["NetworkMode"] == "container:" + inspect(daemon, owner)["Id"]
        daemon.docker("rm", created, check=True)
        daemon.docker("stop", "-t", "0", owner, check=True)
        r = daemon.docker("run", "--rm", "--network", f"container:{owner}", "busybox", "true")
        assert r.returncode != 0 and b"non running container" in r.stderr
    finally:
        daemon.docker("rm", "-f", owner)


def test_links_give_hosts_entries_and_environment(daemon):
    try:
        daemon.docker("run", "-d", "--name", "linked-db", "--expose", "5432", "-e", "SECRET=abc", "busybox", "sleep", "300", check=True)
        ip = inspect(daemon, "linked-db")["NetworkSettings"]["IPAddress"]
        r = daemon.docker("run", "--name", "linker", "--link", "linked-db:db", "busybox", "sh", "-c", "env; cat /etc/hosts; ping -c1 -W1 db >/dev/null && echo reached")
        out = r.stdout.decode()
        assert r.returncode == 0, r.stderr
        for line in [f"DB_PORT=tcp://{ip}:5432", f"DB_PORT_5432_TCP=tcp://{ip}:5432", f"DB_PORT_5432_TCP_ADDR={ip}", "DB_PORT_5432_TCP_PORT=5432",
                     "DB_PORT_5432_TCP_PROTO=tcp", "DB_NAME=/linker/db", "DB_ENV_SECRET=abc", "reached"]:
            assert line in out.splitlines(), (line, out)
        assert any(l.startswith(f"{ip}\tdb ") and l.endswith(" linked-db") for l in out.splitlines()), out
        assert inspect(daemon, "linker")["HostConfig"]["Links"] == ["/linked-db:/linker/db"]
        daemon.docker("stop", "-t", "0", "linked-db", check=True)
        r = daemon.docker("start", "linker")
        assert r.returncode != 0 and b"Cannot link to a non running container: /linked-db AS /linker/db" in r.stderr
        r = daemon.docker("create", "--link", "no-such-target:x", "busybox", "true")
        assert r.returncode != 0
    finally:
        daemon.docker("rm", "-f", "linked-db", "linker")


def test_inter_container_traffic_can_be_turned_off(daemon):
    bridge_tables = lambda: subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    table = f"table bridge berth_{daemon.bridge}"
    daemon.docker("network", "create", "--subnet", "10.147.0.0/24", "-o", "com.docker.network.bridge.enable_icc=false", "no-icc", check=True)
    try:
        daemon.docker("run", "-d", "--name", "icc-a", "--network", "no-icc", "busybox", "sleep", "300", check=True)
        daemon.docker("run", "-d", "--name", "icc-b", "--network", "no-icc", "busybox", "sleep", "300", check=True)
        assert not pings(daemon, "icc-b", "icc-a"), "containers of an enable_icc=false network cannot reach each other"
        assert pings(daemon, "icc-b", "10.147.0.1"), "they still reach their gateway"
        assert table in bridge_tables()
    finally:
        daemon.docker("rm", "-f", "icc-a", "icc-b")
        daemon.docker("network", "rm", "no-icc")
    assert table not in bridge_tables()


def test_connect_events_and_a_daemon_kill_with_two_networks(fresh_daemon):
    d = fresh_daemon
    d.docker("network", "create", "--subnet", "10.148.0.0/24", "kill-a", check=True)
    d.docker("network", "create", "--subnet", "10.149.0.0/24", "kill-b", check=True)
    d.docker("run", "-d", "--name", "two-nets", "--network", "kill-a", "busybox", "sleep", "300", check=True)
    d.docker("run", "-d", "--name", "peer-b", "--network", "kill-b", "busybox", "sleep", "300", check=True)
    d.docker("network", "connect", "--alias", "both", "kill-b", "two-nets", check=True)
    d.kill9()
    d.start()
    since = str(int(time.time()) - 1)
    assert pings(d, "peer-b", "both"), "names on the second network resolve after a daemon kill"
    assert pings(d, "two-nets", "peer-b")
    address = inspect(d, "two-nets")["NetworkSettings"]["Networks"]["kill-b"]["IPAddress"]
    assert address.startswith("10.149.0.")
    d.docker("network", "disconnect", "kill-b", "two-nets", check=True)
    assert not pings(d, "peer-b", address)
    d.docker("network", "connect", "kill-b", "two-nets", check=True)
    assert pings(d, "peer-b", "two-nets")
    until = str(int(time.time()) + 1)
    out = d.docker("events", "--since", since, "--until", until, "--filter", "type=network", "--format",
                   "{{.Action}} {{.Actor.Attributes.name}}", check=True).stdout.decode().splitlines()
    assert out.index("disconnect kill-b") < out.index("connect kill-b"), out
    d.docker("rm", "-f", "two-nets", "peer-b", check=True)
    d.docker("network", "rm", "kill-a", "kill-b", check=True)


def test_a_dual_stack_network(daemon):
    tables = lambda: subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    table6 = f"table ip6 berth_{daemon.bridge}"
    r = daemon.docker("network", "create", "--ipv6", "--subnet", "10.151.0.0/24", "--subnet", "fd00:b1::/64", "v6net")
    assert r.returncode == 0, r.stderr
    port = free_port()
    try:
        info = json.loads(daemon.docker("network", "inspect", "v6net", check=True).stdout)[0]
        assert info["EnableIPv6"] is True
        assert {"Subnet": "fd00:b1::/64", "Gateway": "fd00:b1::1"} in info["IPAM"]["Config"]
        assert table6 in tables()
        daemon.docker("run", "-d", "--name", "v6-srv", "--network", "v6net", "--hostname", "six", "-p", f"{port}:8080",
                      "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
        daemon.docker("run", "-d", "--name", "v6-fixed", "--network", "v6net", "--ip6", "fd00:b1::99", "busybox", "sleep", "300", check=True)
        endpoint = inspect(daemon, "v6-srv")["NetworkSettings"]["Networks"]["v6net"]
        assert endpoint["GlobalIPv6Address"] == "fd00:b1::2" and endpoint["GlobalIPv6PrefixLen"] == 64 and endpoint["IPv6Gateway"] == "fd00:b1::1"
        assert endpoint["IPAddress"].startswith("10.151.0.")
        fixed = inspect(daemon, "v6-fixed")["NetworkSettings"]["Networks"]["v6net"]
        assert fixed["GlobalIPv6Address"] == "fd00:b1::99" and fixed["IPAMConfig"]["IPv6Address"] == "fd00:b1::99"
        members = json.loads(daemon.docker("network", "inspect", "v6net", check=True).stdout)[0]["Containers"]
        assert "fd00:b1::99/64" in {m["IPv6Address"] for m in members.values()}
        # Containers talk over IPv6, find each other's AAAA records, and list the address in /etc/hosts.
        r = daemon.docker("exec", "v6-fixed", "sh", "-c", "for i in 1 2 3 4 5; do wget -qO- 'http://[fd00:b1::2]:8080/hostname' && exit 0; sleep 0.2; done; exit 1")
        assert r.returncode == 0 and r.stdout == b"six\n", r.stderr
        r = daemon.docker("exec", "v6-fixed", "nslookup", "-type=aaaa", "v6-srv", "127.0.0.11")
        assert r.returncode == 0 and "fd00:b1::2" in r.stdout.decode(), r.stdout
        assert "fd00:b1::2\tsix" in daemon.docker("exec", "v6-srv", "cat", "/etc/hosts", check=True).stdout.decode()
        assert "default via fd00:b1::1" in daemon.docker("exec", "v6-srv", "ip", "-6", "route", check=True).stdout.decode()
        # The host reaches the container's IPv6 address, and the published port through its own
        # address on the bridge (IPv6 has no route_localnet for ::1).
        r = subprocess.run(["curl", "-sf", "--max-time", "5", "-g", "http://[fd00:b1::2]:8080/hostname"], capture_output=True)
        assert r.stdout == b"six\n"
        r = subprocess.run(["curl", "-sf", "--max-time", "5", "-g", f"http://[fd00:b1::1]:{port}/hostname"], capture_output=True)
        assert r.stdout == b"six\n", r.stderr
        # Bad input: taken, outside, on an IPv4-only network; an IPv6 subnet without --ipv6; overlaps.
        r = daemon.docker("run", "--rm", "--network", "v6net", "--ip6", "fd00:b1::99", "busybox", "true")
        assert r.returncode != 0 and b"fd00:b1::99 is already in use" in r.stderr
        r = daemon.docker("run", "--rm", "--network", "v6net", "--ip6", "fd00:b2::5", "busybox", "true")
        assert r.returncode != 0 and b"does not belong to any of this network's subnets" in r.stderr
        r = daemon.docker("network", "create", "--subnet", "fd00:b3::/64", "v6-missing-flag")
        assert r.returncode != 0 and b"add --ipv6" in r.stderr
        r = daemon.docker("network", "create", "--ipv6", "--subnet", "fd00:b1:0:0:1::/80", "v6-overlap")
        assert r.returncode != 0 and b"overlaps" in r.stderr
        r = daemon.docker("network", "create", "--ipv6", "--subnet", "fd00:b1::1/64", "v6-host-bits")
        assert r.returncode != 0
        assert "v6-missing-flag" not in daemon.docker("network", "ls", "--format", "{{.Name}}", check=True).stdout.decode()
        # A dual-stack network without an IPv6 subnet gets a unique local /64.
        daemon.docker("network", "create", "--ipv6", "v6auto", check=True)
        auto = [p["Subnet"] for p in json.loads(daemon.docker("network", "inspect", "v6auto", check=True).stdout)[0]["IPAM"]["Config"]]
        assert any(s.startswith("fd") and s.endswith("::/64") for s in auto), auto
    finally:
        daemon.docker("rm", "-f", "v6-srv", "v6-fixed")
        daemon.docker("network", "rm", "v6net", "v6auto")
    assert table6 not in tables()


def test_bip_and_default_address_pools(busybox_tar):
    from berth_testlib import Daemon
    d = Daemon(extra_args=["--bip", "10.152.7.1/24", "--default-address-pool", "base=10.153.0.0/16,size=24"])
    try:
        d.start()
        d.import_busybox(busybox_tar)
        bridge = json.loads(d.docker("network", "inspect", "bridge", check=True).stdout)[0]["IPAM"]["Config"][0]
        assert bridge == {"Subnet": "10.152.7.0/24", "Gateway": "10.152.7.1"}
        d.docker("network", "create", "pooled", check=True)
        pooled = json.loads(d.docker("network", "inspect", "pooled", check=True).stdout)[0]["IPAM"]["Config"][0]
        assert pooled["Subnet"].startswith("10.153.") and pooled["Subnet"].endswith(".0/24")
        r = d.docker("run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0", check=True)
        assert b"10.152.7.2/24" in r.stdout
    finally:
        d.cleanup()
    bad = Daemon(extra_args=["--bip", "10.152.7.0/24"])
    with pytest.raises(RuntimeError) as e:
        bad.start()
    bad.cleanup()
    assert "invalid --bip" in str(e.value)


def test_berthd_ipv6_makes_the_default_bridge_dual_stack(busybox_tar):
    """`berthd --ipv6 --fixed-cidr-v6`: the default bridge network gets the IPv6 subnet (in
    inspect, on its containers, between them); started again without --ipv6 it is IPv4 only."""
    from berth_testlib import Daemon, binary

    d = Daemon(extra_args=["--ipv6", "--fixed-cidr-v6", "fd00:b2::/64"])
    try:
        d.start()
        d.import_busybox(busybox_tar)
        info = json.loads(d.docker("network", "inspect", "bridge", check=True).stdout)[0]
        assert info["EnableIPv6"] is True
        assert {"Subnet": "fd00:b2::/64", "Gateway": "fd00:b2::1"} in info["IPAM"]["Config"]
        d.docker("run", "-d", "--name", "six-srv", "--hostname", "six", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc", check=True)
        endpoint = inspect(d, "six-srv")["NetworkSettings"]["Networks"]["bridge"]
        assert endpoint["GlobalIPv6Address"] == "fd00:b2::2" and endpoint["IPv6Gateway"] == "fd00:b2::1", endpoint
        assert inspect(d, "six-srv")["NetworkSettings"]["GlobalIPv6Address"] == "fd00:b2::2"
        r = d.docker("run", "--rm", "busybox", "sh", "-c",
                     "for i in 1 2 3 4 5; do wget -qO- 'http://[fd00:b2::2]:8080/hostname' && exit 0; sleep 0.2; done; exit 1")
        assert r.returncode == 0 and r.stdout == b"six\n", r.stderr
        d.docker("rm", "-f", "six-srv", check=True)
        d.stop()
        d.extra_args = [a for a in d.extra_args if a not in ("--ipv6", "--fixed-cidr-v6", "fd00:b2::/64")]
        d.start()
        info = json.loads(d.docker("network", "inspect", "bridge", check=True).stdout)[0]
        assert info["EnableIPv6"] is False and not any(":" in c["Subnet"] for c in info["IPAM"]["Config"]), info["IPAM"]
    finally:
        d.cleanup()
    r = subprocess.run([binary("berthd"), "--ipv6", "--fixed-cidr-v6", "10.0.0.0/8", "--root", "/nonexistent-berth"], capture_output=True)
    assert r.returncode != 0 and b"fixed-cidr-v6" in r.stderr
