import BerthSystem
import Glibc

/// One daemon's nftables table (`ip <name>`): masquerading of its networks' outbound
/// traffic, isolation between its networks (and of internal ones), and the DNAT of published
/// ports — for traffic arriving from outside, from the host itself (127.0.0.1 included) and
/// from containers through the gateway (hairpin). No proxy process carries any traffic.
/// Dual-stack networks get the same rules for IPv6 in an `ip6` table of the same name (made
/// only while one exists; IPv6 has no `route_localnet`, so the host reaches their published
/// ports through its own addresses, not `::1`).
/// Networks with inter-container traffic turned off get a `bridge` table of the same name that
/// drops what their bridge forwards between its containers' ports (the `ip` hooks never see
/// bridged traffic without `br_netfilter`, a host-wide setting Berth leaves alone).
///
/// Published ports are elements of nftables maps that two DNAT rules look up, so a container's
/// ports are added and removed as elements in one `nft -f -` transaction without touching the
/// rest. Network changes and daemon starts render the whole table (elements included) from the
/// daemon's state and replace it in one transaction, so it never keeps a stale rule across a
/// change or a restart, and a failed change leaves the previous table.
struct Firewall: Sendable {
    /// The table's name.
    let table: String

    /// A network as the table needs it.
    struct Segment {
        var bridge: String
        var subnet: IPv4Subnet
        /// The IPv6 subnet of a dual-stack network.
        var subnet6: IPv6Subnet? = nil
        var isInternal: Bool
        /// The host ends of the containers' veth pairs, when inter-container traffic is off
        /// (`com.docker.network.bridge.enable_icc=false`); nil: allowed.
        var isolatedPorts: [String]? = nil
        /// `com.docker.network.bridge.enable_ip_masquerade`.
        var masquerades = true
    }

    /// A published port and where it goes.
    struct Forward {
        var port: PublishedPort
        var address: IPv4Address
        /// The container's IPv6 address on a dual-stack network.
        var address6: IPv6Address? = nil
    }

    /// The nft script that replaces the tables.
    func script(segments: [Segment], forwards: [Forward]) -> String {
        var lines = family("ip", segments: segments.map { ($0, $0.subnet.description, "127.0.0.0/8, \($0.subnet)") }, forwards: forwards)
        let dualStack = segments.compactMap { segment in segment.subnet6.map { (segment, $0.description, $0.description) } }
        lines += ["table ip6 \(table) {}", "delete table ip6 \(table)"]
        if !dualStack.isEmpty {
            lines += family("ip6", segments: dualStack, forwards: forwards).dropFirst(2)
        }
        lines += ["table bridge \(table) {}", "delete table bridge \(table)"]
        let isolated = segments.compactMap(\.isolatedPorts).filter { !$0.isEmpty }.map { ports in
            let set = "{ " + ports.map { "\"\($0)\"" }.joined(separator: ", ") + " }"
            return "    iifname \(set) oifname \(set) drop"
        }
        if !isolated.isEmpty {
            lines += ["table bridge \(table) {", "  chain forward {", "    type filter hook forward priority filter; policy accept;"] + isolated + ["  }", "}"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The nft script that adds (or deletes) published ports in the tables' maps, leaving
    /// everything else as it is.
    func elementScript(_ forwards: [Forward], adding: Bool) -> String {
        let verb = adding ? "add" : "delete"
        var lines: [String] = []
        for (family, map, elements) in [("ip", Self.anyAddress, elements(forwards, family: "ip", onAddress: false)),
                                         ("ip", Self.oneAddress, elements(forwards, family: "ip", onAddress: true)),
                                         ("ip6", Self.anyAddress, elements(forwards, family: "ip6", onAddress: false))] where !elements.isEmpty {
            lines.append("\(verb) element \(family) \(table) \(map) { \(elements.joined(separator: ", ")) }")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The maps of published ports: to any local address (`fib daddr type local`), and to one
    /// host address (IPv4 only).
    private static let anyAddress = "published"
    private static let oneAddress = "published_on"

    /// The map elements of `forwards` in one family: `proto . hostPort : address . port`, with
    /// the host address in front for those bound to one.
    private func elements(_ forwards: [Forward], family: String, onAddress: Bool) -> [String] {
        forwards.compactMap { item in
            guard (item.port.hostIP != nil) == onAddress else { return nil }
            let target: String
            if family == "ip" {
                target = item.address.description
            } else {
                guard let address6 = item.address6 else { return nil }
                target = address6.description
            }
            let key = "\(item.port.proto) . \(item.port.hostPort)"
            return (item.port.hostIP.map { "\($0) . " } ?? "") + "\(key) : \(target) . \(item.port.containerPort)"
        }
    }

    /// One family's table: `segments` with their subnet and the sources to masquerade after a
    /// DNAT (hairpin, and the host's own loopback for IPv4), `forwards` in its maps.
    private func family(_ name: String, segments: [(Segment, subnet: String, dnatSources: String)], forwards: [Forward]) -> [String] {
        var forward: [String] = []
        var postrouting: [String] = []
        let bridges = segments.map { "\"\($0.0.bridge)\"" }.joined(separator: ", ")
        for (segment, subnet, sources) in segments {
            let bridge = "\"\(segment.bridge)\""
            if segment.isInternal {
                forward.append("iifname \(bridge) oifname != \(bridge) drop")
                forward.append("oifname \(bridge) iifname != \(bridge) drop")
            } else {
                forward.append("iifname \(bridge) oifname != \(bridge) oifname { \(bridges) } drop")
                if segment.masquerades { postrouting.append("\(name) saddr \(subnet) oifname != \(bridge) masquerade") }
            }
            // Hairpin and the host's own addresses: the container must answer through the host.
            postrouting.append("oifname \(bridge) ct status dnat \(name) saddr { \(sources) } masquerade")
        }
        let address = name == "ip" ? "ipv4_addr" : "ipv6_addr"
        var maps = [(Self.anyAddress, "inet_proto . inet_service", elements(forwards, family: name, onAddress: false))]
        var dnat = ["fib daddr type local dnat \(name) to meta l4proto . th dport map @\(Self.anyAddress)"]
        if name == "ip" {
            maps.append((Self.oneAddress, "ipv4_addr . inet_proto . inet_service", elements(forwards, family: name, onAddress: true)))
            dnat.insert("dnat ip to ip daddr . meta l4proto . th dport map @\(Self.oneAddress)", at: 0)
        }
        var lines = ["table \(name) \(table) {}", "delete table \(name) \(table)", "table \(name) \(table) {"]
        for (map, key, elements) in maps {
            lines += ["  map \(map) {", "    type \(key) : \(address) . inet_service"]
            if !elements.isEmpty { lines.append("    elements = { \(elements.joined(separator: ", ")) }") }
            lines.append("  }")
        }
        lines += ["  chain forward {", "    type filter hook forward priority filter; policy accept;"] + forward.map { "    " + $0 } + ["  }"]
        lines += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"] + dnat.map { "    " + $0 } + ["  }"]
        lines += ["  chain output {", "    type nat hook output priority -100; policy accept;"] + dnat.map { "    " + $0 } + ["  }"]
        lines += ["  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"] + postrouting.map { "    " + $0 } + ["  }"]
        lines.append("}")
        return lines
    }

    /// Replaces the tables in one transaction.
    func apply(segments: [Segment], forwards: [Forward]) throws {
        try run(script(segments: segments, forwards: forwards))
    }

    /// Adds published ports to the maps in one transaction (all or none).
    func publish(_ forwards: [Forward]) throws {
        try run(elementScript(forwards, adding: true))
    }

    /// Takes published ports out of the maps in one transaction.
    func unpublish(_ forwards: [Forward]) throws {
        try run(elementScript(forwards, adding: false))
    }

    private func run(_ script: String) throws {
        let result = try ProcessRunner.runBlocking([Self.nft, "-f", "-"], input: Array(script.utf8))
        guard result.status == 0 else {
            throw EngineError.failure("nft refused the rules of table \(table): \(result.stderrText)")
        }
    }

    static let nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first(where: { FileSystem.exists($0) }) ?? "/usr/sbin/nft"
}
