#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Testing
@testable import Engine

@Suite struct IPv4SubnetTests {
    @Test func addressesAndSubnetsParseStrictly() {
        #expect(IPv4Address("172.17.0.1")?.value == 0xAC11_0001)
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1.2.3.4 "] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        #expect(IPv4Subnet("10.1.0.0/16")?.description == "10.1.0.0/16")
        #expect(IPv4Subnet("10.1.2.3/16")?.description == "10.1.0.0/16")
        #expect(IPv4Subnet("10.1.2.3/16", strict: true) == nil)
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "/8", "10.0.0.0/8/8"] {
            #expect(IPv4Subnet(bad) == nil, "\(bad)")
        }
    }

    @Test func overlapContainmentAndFirstHost() throws {
        let wide = try #require(IPv4Subnet("172.16.0.0/12"))
        let narrow = try #require(IPv4Subnet("172.18.5.0/24"))
        let other = try #require(IPv4Subnet("192.168.0.0/20"))
        #expect(wide.overlaps(narrow) && narrow.overlaps(wide) && !wide.overlaps(other))
        #expect(wide.covers(narrow) && !narrow.covers(wide))
        #expect(narrow.firstHost.description == "172.18.5.1" && narrow.last.description == "172.18.5.255")
        #expect(narrow.contains(IPv4Address("172.18.5.200")!) && !narrow.contains(IPv4Address("172.18.6.1")!))
    }

    @Test func hostRoutesAreReadWithoutTheDefaultRoute() {
        let table = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
        eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
        docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
        """
        #expect(HostRoutes.ipv4Destinations(table: table).map(\.description) == ["192.0.2.0/24", "172.17.0.0/16"])
    }
}

@Suite struct NetworkServiceTests {
    private func withService(routes: [String] = [], _ body: (NetworkService, String) async throws -> Void) async throws {
        let root = "/tmp/berth-network-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileSystem.removeTree(root) }
        let subnets = routes.compactMap { IPv4Subnet($0) }
        try await body(try NetworkService(root: root, hostRoutes: { subnets }), root)
    }

    @Test func predefinedNetworksExistAndTheBridgeAvoidsHostRoutes() async throws {
        try await withService(routes: ["172.17.0.0/16"]) { service, root in
            let names = await service.list().map(\.name)
            #expect(names == ["bridge", "host", "none"])
            let bridge = try await service.resolve("bridge")
            #expect(bridge.pools.first?.subnet.description == "172.18.0.0/16" && bridge.pools.first?.gateway.description == "172.18.0.1")
            #expect(bridge.bridgeName == "berth0")
            // Reopened: the same IDs, not new ones.
            let again = try NetworkService(root: root, hostRoutes: { [] })
            #expect(try await again.resolve("bridge").id == bridge.id)
        }
    }

    @Test func bipAndAddressPoolsChooseTheSubnets() async throws {
        let root = "/tmp/berth-network-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileSystem.removeTree(root) }
        let pools = try AddressPoolSettings(parsing: ["base=10.210.0.0/16,size=24"])
        #expect(pools.subnets.count == 256 && pools.subnets[1].description == "10.210.1.0/24")
        let bip = try BridgeAddress(parsing: "10.211.0.5/24")
        let service = try NetworkService(root: root, bridgeAddress: bip, pools: pools, hostRoutes: { [IPv4Subnet("10.210.0.0/24")!] })
        let bridge = try await service.resolve("bridge")
        #expect(bridge.pools == [Network.AddressPool(subnet: IPv4Subnet("10.211.0.0/24")!, gateway: IPv4Address("10.211.0.5")!)])
        #expect(try await service.create(NetworkRequest(name: "picked")).pools.first?.subnet.description == "10.210.1.0/24")
        // A new --bip replaces the table's; without one the table's stays.
        let moved = try NetworkService(root: root, bridgeAddress: try BridgeAddress(parsing: "10.212.0.1/16"), hostRoutes: { [] })
        #expect(try await moved.resolve("bridge").pools.first?.subnet.description == "10.212.0.0/16")
        #expect(try await NetworkService(root: root, hostRoutes: { [] }).resolve("bridge").pools.first?.subnet.description == "10.212.0.0/16")
        for bad in ["base=10.0.0.0/16", "size=24", "base=10.0.0.1/16,size=24", "base=10.0.0.0/16,size=8", "base=10.0.0.0/8,size=30", "x=1"] {
            #expect(throws: EngineError.self) { try AddressPoolSettings(parsing: [bad]) }
        }
        for bad in ["10.0.0.0/24", "10.0.0.255/24", "10.0.0.1", "10.0.0.1/31", "x/24"] {
            #expect(throws: EngineError.self) { try BridgeAddress(parsing: bad) }
        }
    }

    @Test func createPicksFreeSubnetsAndRefusesClashes() async throws {
        try await withService { service, root in
            let first = try await service.create(NetworkRequest(name: "front"))
            #expect(first.pools.first?.subnet.description == "172.18.0.0/16")
            #expect(first.bridgeName == "br-" + first.id.prefix(12))
            var fixed = NetworkRequest(name: "back")
            fixed.pools = [.init(subnet: "10.20.0.0/24", gateway: "10.20.0.254", ipRange: "10.20.0.128/25")]
            let back = try await service.create(fixed)
            #expect(back.pools == [Network.AddressPool(subnet: IPv4Subnet("10.20.0.0/24")!, gateway: IPv4Address("10.20.0.254")!, ipRange: IPv4Subnet("10.20.0.128/25"))])
            await #expect(throws: EngineError.conflict("network with name front already exists")) { try await service.create(NetworkRequest(name: "front")) }
            var overlapping = NetworkRequest(name: "third")
            overlapping.pools = [.init(subnet: "10.20.0.0/16")]
            await #expect(throws: EngineError.forbidden("invalid pool request: Pool overlaps with other one on this address space")) { try await service.create(overlapping) }
            for (subnet, gateway, range) in [("10.30.0.1/24", nil, nil), ("10.30.0.0/24", "10.31.0.1", nil), ("10.30.0.0/24", nil, "10.31.0.0/25"), ("nonsense", nil, nil)] as [(String, String?, String?)] {
                var bad = NetworkRequest(name: "bad")
                bad.pools = [.init(subnet: subnet, gateway: gateway, ipRange: range)]
                await #expect(throws: EngineError.self) { try await service.create(bad) }
            }
            await #expect(throws: EngineError.self) { try await service.create(NetworkRequest(name: "-leading-dash")) }
            // Nothing half-made: the failures left the table as it was.
            let reopened = try NetworkService(root: root, hostRoutes: { [] })
            #expect(await reopened.list().map(\.name) == ["bridge", "host", "none", "back", "front"])
        }
    }

    @Test func removalRefusesPredefinedAndUsedNetworks() async throws {
        try await withService { service, _ in
            let network = try await service.create(NetworkRequest(name: "gone"))
            await #expect(throws: EngineError.forbidden("bridge is a pre-defined network and cannot be removed")) { try await service.remove("bridge", users: []) }
            await #expect(throws: EngineError.self) { try await service.remove("gone", users: ["c1"]) }
            try await service.remove(String(network.id.prefix(6)), users: [])
            await #expect(throws: EngineError.noSuchNetwork("gone")) { try await service.resolve("gone") }
            _ = try await service.create(NetworkRequest(name: "kept"))
            _ = try await service.create(NetworkRequest(name: "pruned"))
            let kept = try await service.resolve("kept").id
            #expect(try await service.prune(inUse: [kept]) { _ in true } == ["pruned"])
        }
    }
}

@Suite struct DNSQuestionTests {
    /// A standard query for `name` of `type`, id 0x1234, recursion desired.
    private func query(_ name: String, type: UInt16 = 1) -> [UInt8] {
        var bytes: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { bytes += [UInt8(label.utf8.count)] + Array(label.utf8) }
        return bytes + [0, UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
    }

    @Test func aQuestionIsReadAndAnsweredAuthoritatively() throws {
        let message = query("web.example")
        let question = try #require(DNSQuestion(message))
        #expect(question.name == "web.example" && question.type == 1 && question.end == message.count)
        let reply = question.reply(to: message, records: [IPv4Address("10.0.0.2")!.bytes, IPv4Address("10.0.0.3")!.bytes])
        #expect(reply[0] == 0x12 && reply[1] == 0x34 && reply[2] == 0x85 && reply[3] == 0x80 && reply[7] == 2)
        #expect(Array(reply[message.count..<message.count + 2]) == [0xC0, 0x0C] && Array(reply.suffix(4)) == [10, 0, 0, 3])
        let missing = question.reply(to: message, records: [], nameError: true)
        let six = question.reply(to: message, records: [IPv6Address("fd00::5")!.bytes])
        #expect(six[7] == 1 && Array(six[message.count + 2..<message.count + 4]) == [0, 28] && six[message.count + 11] == 16)
        #expect(Array(six.suffix(16)) == IPv6Address("fd00::5")!.bytes)
        #expect(missing[3] == 0x83 && missing[7] == 0 && missing.count == message.count)
    }

    @Test func malformedOrUnusualMessagesAreIgnored() {
        var response = query("a")
        response[2] |= 0x80
        var twoQuestions = query("a")
        twoQuestions[5] = 2
        var longLabel = query("a")
        longLabel[12] = 64
        let truncated = Array(query("abc.def").dropLast(3))
        var pointer = query("a")
        pointer[12] = 0xC0
        for message in [[], Array(repeating: 0, count: 11), response, twoQuestions, longLabel, truncated, pointer] {
            #expect(DNSQuestion(message) == nil)
        }
    }
}

@Suite struct IPv6SubnetTests {
    @Test func addressesParseAndPrintInTheirShortestForm() throws {
        let address = try #require(IPv6Address("fd00:0:0:0:0:0:0:2"))
        #expect(address.description == "fd00::2" && address.high == 0xfd00_0000_0000_0000 && address.low == 2)
        #expect(IPv6Address(bytes: address.bytes) == address && address.advanced(by: UInt64.max).high == 0xfd00_0000_0000_0001)
        for bad in ["", "10.0.0.1", "fd00::zz", "fd00::1/64", "fd00:::1", String(repeating: "1", count: 60) + ":"] { #expect(IPv6Address(bad) == nil, "\(bad)") }
    }

    @Test func subnetsContainOverlapAndRefuseHostBitsWhenStrict() throws {
        let subnet = try #require(IPv6Subnet("fd00:b1::/64", strict: true))
        #expect(subnet.contains(IPv6Address("fd00:b1::ffff")!) && !subnet.contains(IPv6Address("fd00:b2::1")!))
        #expect(subnet.firstHost.description == "fd00:b1::1" && subnet.size == UInt64.max)
        #expect(subnet.overlaps(IPv6Subnet("fd00:b1:0:0:1::/80")!) && !subnet.overlaps(IPv6Subnet("fd00:b2::/64")!))
        #expect(IPv6Subnet("fd00:b1::1/64", strict: true) == nil && IPv6Subnet("fd00:b1::1/64")?.description == "fd00:b1::/64")
        #expect(IPv6Subnet("fd00::/129") == nil && IPv6Subnet("fd00::/126")?.size == 4)
    }
}

@Suite struct FirewallScriptTests {
    private let subnet = IPv4Subnet("10.1.0.0/24")!

    @Test func theTableIsReplacedWholeAndBridgeTablesOnlyWhenNeeded() {
        let firewall = Firewall(table: "berth_t")
        let plain = firewall.script(segments: [.init(bridge: "br-a", subnet: subnet, isInternal: false)], forwards: [])
        #expect(plain.hasPrefix("table ip berth_t {}\ndelete table ip berth_t\n"))
        #expect(plain.contains("ip saddr 10.1.0.0/24 oifname != \"br-a\" masquerade"))
        // The bridge family's table is always deleted, and made again only for isolated ports.
        #expect(plain.contains("table bridge berth_t {}\ndelete table bridge berth_t\n") && !plain.contains("table bridge berth_t {\n"))
        let isolated = firewall.script(segments: [.init(bridge: "br-a", subnet: subnet, isInternal: false, isolatedPorts: ["veth1", "veth2"], masquerades: false)],
                                       forwards: [])
        #expect(isolated.contains("iifname { \"veth1\", \"veth2\" } oifname { \"veth1\", \"veth2\" } drop"))
        #expect(!isolated.contains("ip saddr 10.1.0.0/24 oifname"))
        let dualStack = firewall.script(segments: [.init(bridge: "br-6", subnet: subnet, subnet6: IPv6Subnet("fd00:b1::/64")!, isInternal: false)],
                                        forwards: [.init(port: PublishedPort(proto: "tcp", hostIP: nil, hostPort: 8080, containerPort: 80), address: IPv4Address("10.1.0.2")!,
                                                         address6: IPv6Address("fd00:b1::2")!)])
        #expect(dualStack.contains("table ip6 berth_t {\n") && dualStack.contains("elements = { tcp . 8080 : fd00:b1::2 . 80 }"))
        #expect(dualStack.contains("ip6 saddr fd00:b1::/64 oifname != \"br-6\" masquerade") && dualStack.contains("elements = { tcp . 8080 : 10.1.0.2 . 80 }"))
        #expect(dualStack.contains("fib daddr type local dnat ip6 to meta l4proto . th dport map @published"))
        // Ports come and go as elements of the maps; one bound to a host address goes to its own map.
        let bound = Firewall.Forward(port: PublishedPort(proto: "udp", hostIP: IPv4Address("127.0.0.1"), hostPort: 53, containerPort: 5353), address: IPv4Address("10.1.0.3")!)
        #expect(firewall.elementScript([bound], adding: true) == "add element ip berth_t published_on { 127.0.0.1 . udp . 53 : 10.1.0.3 . 5353 }\n")
        let both = firewall.elementScript([.init(port: PublishedPort(proto: "tcp", hostIP: nil, hostPort: 8080, containerPort: 80), address: IPv4Address("10.1.0.2")!,
                                                 address6: IPv6Address("fd00:b1::2")!)], adding: false)
        #expect(both == "delete element ip berth_t published { tcp . 8080 : 10.1.0.2 . 80 }\ndelete element ip6 berth_t published { tcp . 8080 : fd00:b1::2 . 80 }\n")
        #expect(!plain.contains("table ip6 berth_t {\n") && plain.contains("delete table ip6 berth_t"))
        let closed = firewall.script(segments: [.init(bridge: "br-i", subnet: subnet, isInternal: true)], forwards: [])
        #expect(closed.contains("iifname \"br-i\" oifname != \"br-i\" drop") && !closed.contains("ip saddr 10.1.0.0/24 oifname != \"br-i\" masquerade"))
    }

    @Test func linksParseAsDockerWritesThem() {
        #expect(ContainerService.parseLink("db:database") == ("db", "database"))
        #expect(ContainerService.parseLink("/db") == ("db", "db"))
    }
}

@Suite struct NetworkSpecRecordTests {
    @Test func recordsFromBeforeSeveralNetworksReadAsJoiningTheirMode() throws {
        let old = #"{"mode": "front", "dns": [], "dnsSearch": [], "dnsOptions": [], "extraHosts": [], "portBindings": [], "publishAllPorts": false, "aliases": ["web"]}"#
        let spec = try JSONDecoder().decode(NetworkSpec.self, from: Data(old.utf8))
        #expect(spec.joins == [NetworkJoin(network: "front", aliases: ["web"])] && spec.links.isEmpty)
        var changed = spec
        changed.joins = []
        let again = try JSONDecoder().decode(NetworkSpec.self, from: JSONEncoder().encode(changed))
        #expect(again.joins.isEmpty && again == changed)
        let hostRecord = #"{"mode": "host", "dns": [], "dnsSearch": [], "dnsOptions": [], "extraHosts": [], "portBindings": [], "publishAllPorts": false}"#
        let host = try JSONDecoder().decode(NetworkSpec.self, from: Data(hostRecord.utf8))
        #expect(host.joins.isEmpty)
    }
}
