/// `-p`/`--publish` values: `[ip:][hostPort:]containerPort[/proto]`, IPv6 addresses in brackets.
enum PortSpec {
    /// The container port key (`80/tcp`) and its host binding, or nil when malformed.
    static func parse(_ spec: String) -> (String, PortBindingBody)? {
        var rest = Substring(spec)
        var proto = "tcp"
        if let slash = rest.lastIndex(of: "/") {
            proto = String(rest[rest.index(after: slash)...]).lowercased()
            rest = rest[..<slash]
            guard ["tcp", "udp", "sctp"].contains(proto) else { return nil }
        }
        var hostIP = ""
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostIP = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let hostPort: String
        let containerPort: String
        switch parts.count {
        case 1:
            hostPort = ""
            containerPort = parts[0]
        case 2:
            hostPort = parts[0]
            containerPort = parts[1]
        case 3 where hostIP.isEmpty:
            hostIP = parts[0]
            hostPort = parts[1]
            containerPort = parts[2]
        default:
            return nil
        }
        guard isPort(containerPort), hostPort.isEmpty || isPort(hostPort) else { return nil }
        return ("\(containerPort)/\(proto)", PortBindingBody(hostIp: hostIP, hostPort: hostPort))
    }

    private static func isPort(_ text: String) -> Bool {
        guard let value = Int(text) else { return false }
        return value > 0 && value <= 65535
    }
}
