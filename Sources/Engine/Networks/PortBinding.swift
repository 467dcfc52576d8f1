import BerthSystem
import Glibc

/// A port a container asks to publish (`-p [ip:]host:container[/proto]`, `-P`), as given: the
/// host port may be empty (any free one) or a range to pick from.
public struct PortBinding: Codable, Sendable, Equatable {
    public var containerPort: UInt16
    /// `tcp`, `udp` or `sctp`.
    public var proto: String
    /// Empty: every address of the host.
    public var hostIP: String
    /// Empty, `8080`, or `8000-8010`.
    public var hostPort: String

    public init(containerPort: UInt16, proto: String, hostIP: String = "", hostPort: String = "") {
        self.containerPort = containerPort
        self.proto = proto
        self.hostIP = hostIP
        self.hostPort = hostPort
    }

    /// Parses docker's `80/tcp` port key; the protocol defaults to tcp.
    public static func parseKey(_ key: String) throws -> (port: UInt16, proto: String) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let port = UInt16(parts[0]), port > 0 else {
            throw EngineError.invalidParameter("invalid port specification: \"\(key)\"")
        }
        let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw EngineError.invalidParameter("invalid proto: \(proto)") }
        return (port, proto)
    }

    /// The host ports this binding may take, lowest first; nil: any free ephemeral one.
    func hostPortRange() throws -> ClosedRange<UInt16>? {
        guard !hostPort.isEmpty else { return nil }
        let parts = hostPort.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let low = UInt16(parts[0]), let high = UInt16(parts.last!), low > 0, low <= high else {
            throw EngineError.invalidParameter("invalid hostPort: \(hostPort)")
        }
        return low...high
    }
}

/// A port published while its container runs: a host address and port forwarded by the
/// kernel to the container's address and port.
public struct PublishedPort: Codable, Sendable, Equatable {
    public var proto: String
    /// nil: every address of the host (`0.0.0.0`).
    public var hostIP: IPv4Address?
    public var hostPort: UInt16
    public var containerPort: UInt16

    /// The `HostIp` docker reports.
    public var hostIPText: String { hostIP?.description ?? "0.0.0.0" }
}

/// Picks host ports for bindings: a port is free when no published port of a running
/// container holds it and no socket of the host is bound to it (tried by binding it).
enum HostPorts {
    /// docker's ephemeral range for `-P` and `-p CONTAINER` (the kernel's local range).
    static func ephemeralRange() -> ClosedRange<UInt16> {
        guard let bytes = (try? FileSystem.readFile("/proc/sys/net/ipv4/ip_local_port_range")).map({ String(decoding: $0, as: UTF8.self) }) else { return 32768...60999 }
        let numbers = bytes.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { UInt16($0) }
        guard numbers.count == 2, numbers[0] <= numbers[1] else { return 32768...60999 }
        return numbers[0]...numbers[1]
    }

    /// Resolves `bindings` into published ports, none of them in `taken` (proto, port) or bound
    /// on the host. Throws docker's "port is already allocated" for a fixed port in use.
    static func resolve(_ bindings: [PortBinding], taken: Set<String>) throws -> [PublishedPort] {
        var result: [PublishedPort] = []
        var used = taken
        for binding in bindings {
            var hostIP: IPv4Address?
            if !binding.hostIP.isEmpty && binding.hostIP != "0.0.0.0" {
                guard let address = IPv4Address(binding.hostIP) else {
                    throw EngineError.invalidParameter("invalid host IP \(binding.hostIP): Berth publishes on IPv4 addresses only")
                }
                hostIP = address
            }
            let fixed = try binding.hostPortRange()
            let candidates = fixed ?? ephemeralRange()
            let shown = "\(hostIP?.description ?? "0.0.0.0")"
            var chosen: UInt16?
            if let fixed, fixed.count == 1 {
                let port = fixed.lowerBound
                guard !used.contains("\(binding.proto)/\(port)"), isFree(port, proto: binding.proto, on: hostIP) else {
                    throw EngineError.failure("driver failed programming external connectivity: Bind for \(shown):\(port) failed: port is already allocated")
                }
                chosen = port
            } else {
                let start = fixed == nil ? UInt16.random(in: candidates) : candidates.lowerBound
                var port = start
                repeat {
                    if !used.contains("\(binding.proto)/\(port)"), isFree(port, proto: binding.proto, on: hostIP) {
                        chosen = port
                        break
                    }
                    port = port == candidates.upperBound ? candidates.lowerBound : port + 1
                } while port != start
            }
            guard let chosen else {
                throw EngineError.failure("driver failed programming external connectivity: no free host port in \(binding.hostPort.isEmpty ? "the ephemeral range" : binding.hostPort) on \(shown)")
            }
            used.insert("\(binding.proto)/\(chosen)")
            result.append(PublishedPort(proto: binding.proto, hostIP: hostIP, hostPort: chosen, containerPort: binding.containerPort))
        }
        return result
    }

    /// Whether nothing on the host is bound to `port` (a bind of our own succeeds).
    static func isFree(_ port: UInt16, proto: String, on address: IPv4Address?) -> Bool {
        let type = proto == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        socketAddress.sin_addr.s_addr = (address?.value ?? 0).bigEndian
        return withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
