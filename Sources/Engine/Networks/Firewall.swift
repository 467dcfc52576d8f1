import BerthSystem
import Glibc

/// One daemon's nftables table (`ip <name>`): masquerading of its networks' outbound
/// traffic, isolation between its networks (and of internal ones), and the DNAT of published
/// ports — for traffic arriving from outside, from the host itself (127.0.0.1 included) and
/// from containers through the gateway (hairpin). No proxy process carries any traffic.
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
        var isInternal: Bool
    }

    /// A published port and where it goes.
    struct Forward {
        var port: PublishedPort
        var address: IPv4Address
        var bridge: String
    }

    /// The nft script that replaces the table.
    func script(segments: [Segment], forwards: [Forward]) -> String {
        var forward: [String] = []
        var postrouting: [String] = []
        let bridges = segments.map { "\"\($0.bridge)\"" }.joined(separator: ", ")
        for segment in segments {
            let bridge = "\"\(segment.bridge)\""
            if segment.isInternal {
                forward.append("iifname \(bridge) oifname != \(bridge) drop")
                forward.append("oifname \(bridge) iifname != \(bridge) drop")
            } else {
                forward.append("iifname \(bridge) oifname != \(bridge) oifname { \(bridges) } drop")
                postrouting.append("ip saddr \(segment.subnet) oifname != \(bridge) masquerade")
            }
            // Hairpin and the host's own 127.0.0.1: the container must answer through the host.
            postrouting.append("oifname \(bridge) ct status dnat ip saddr { 127.0.0.0/8, \(segment.subnet) } masquerade")
        }
        var dnat: [String] = []
        for item in forwards {
            let destination = item.port.hostIP.map { "ip daddr \($0)" } ?? "fib daddr type local"
            dnat.append("\(destination) \(item.port.proto) dport \(item.port.hostPort) dnat to \(item.address):\(item.port.containerPort)")
        }
        var lines = ["table ip \(table) {}", "delete table ip \(table)", "table ip \(table) {"]
        lines += ["  chain forward {", "    type filter hook forward priority filter; policy accept;"] + forward.map { "    " + $0 } + ["  }"]
        lines += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"] + dnat.map { "    " + $0 } + ["  }"]
        lines += ["  chain output {", "    type nat hook output priority -100; policy accept;"] + dnat.map { "    " + $0 } + ["  }"]
        lines += ["  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"] + postrouting.map { "    " + $0 } + ["  }"]
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
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
