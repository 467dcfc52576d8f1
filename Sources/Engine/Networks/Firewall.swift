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
/// The whole table is rendered from the daemon's state and replaced in one `nft -f -`
/// transaction (one process per change, not per rule), so it never holds a stale rule after
/// a change or a daemon restart, and a failed change leaves the previous table.
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
        var bridge: String
    }

    /// The nft script that replaces the tables.
    func script(segments: [Segment], forwards: [Forward]) -> String {
        var lines = family("ip", segments: segments.map { ($0, $0.subnet.description, "127.0.0.0/8, \($0.subnet)") },
                           forwards: forwards.map { ($0, "\($0.address):\($0.port.containerPort)") })
        let dualStack = segments.compactMap { segment in segment.subnet6.map { (segment, $0.description, $0.description) } }
        lines += ["table ip6 \(table) {}", "delete table ip6 \(table)"]
        if !dualStack.isEmpty {
            // Published on every host address (an IPv4 host address is for the IPv4 rules alone).
            let forwards6 = forwards.compactMap { item in item.address6.flatMap { item.port.hostIP == nil ? (item, "[\($0)]:\(item.port.containerPort)") : nil } }
            lines += family("ip6", segments: dualStack, forwards: forwards6).dropFirst(2)
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

    /// One family's table: `segments` with their subnet and the sources to masquerade after a
    /// DNAT (hairpin, and the host's own loopback for IPv4), `forwards` with their target.
    private func family(_ name: String, segments: [(Segment, subnet: String, dnatSources: String)], forwards: [(Forward, target: String)]) -> [String] {
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
        var dnat: [String] = []
        for (item, target) in forwards {
            let destination = item.port.hostIP.map { "ip daddr \($0)" } ?? "fib daddr type local"
            dnat.append("\(destination) \(item.port.proto) dport \(item.port.hostPort) dnat to \(target)")
        }
        var lines = ["table \(name) \(table) {}", "delete table \(name) \(table)", "table \(name) \(table) {"]
        lines += ["  chain forward {", "    type filter hook forward priority filter; policy accept;"] + forward.map { "    " + $0 } + ["  }"]
        lines += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"] + dnat.map { "    " + $0 } + ["  }"]
        lines += ["  chain output {", "    type nat hook output priority -100; policy accept;"] + dnat.map { "    " + $0 } + ["  }"]
        lines += ["  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"] + postrouting.map { "    " + $0 } + ["  }"]
        lines.append("}")
        return lines
    }

    /// Replaces the table in one transaction.
    func apply(segments: [Segment], forwards: [Forward]) throws {
        try run(script(segments: segments, forwards: forwards))
    }

    private func run(_ script: String) throws {
        let result = try ProcessRunner.runBlocking([Self.nft, "-f", "-"], input: Array(script.utf8))
        guard result.status == 0 else {
            throw EngineError.failure("nft refused the rules of table \(table): \(result.stderrText)")
        }
    }

    static let nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first(where: { FileSystem.exists($0) }) ?? "/usr/sbin/nft"
}
