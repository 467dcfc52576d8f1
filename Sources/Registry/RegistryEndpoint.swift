/// Where a registry named in an image reference is reached, and whether plain HTTP may be used.
/// Docker's rules: `docker.io` is served by `registry-1.docker.io`; `localhost`, `127.0.0.0/8`,
/// `::1` and the hosts configured as insecure registries are insecure (plain HTTP, or HTTPS
/// without checking the certificate when the server speaks only that); every other registry
/// is spoken to over HTTPS only, its certificate checked.
public struct RegistryEndpoint: Sendable, Equatable {
    /// The registry as the reference names it (`docker.io`, `127.0.0.1:5000`).
    public let domain: String
    /// True when only verified HTTPS may be used; false for an insecure registry.
    public let secure: Bool
    /// The host to connect to (`registry-1.docker.io` for `docker.io`).
    public let host: String
    /// The port, when the reference names one.
    public let port: Int?

    /// - Parameter insecureRegistries: `host[:port]` entries or IPv4 CIDR ranges (`10.0.0.0/8`).
    public init(domain: String, insecureRegistries: [String] = []) throws {
        self.domain = domain
        let authority = domain == "docker.io" ? "registry-1.docker.io" : domain
        let (host, port) = try HTTPURL.split(authority: Substring(authority), in: domain)
        self.host = host
        self.port = port
        secure = !RegistryEndpoint.isInsecure(domain: domain, host: host, insecureRegistries: insecureRegistries)
    }

    /// The URL of `target` (a path with query, starting with `/v2/`) on this registry.
    public func url(_ target: String) -> HTTPURL {
        HTTPURL(secure: secure, host: host, port: port, target: target)
    }

    static func isInsecure(domain: String, host: String, insecureRegistries: [String]) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        if let address = IPv4(host), address.bytes[0] == 127 { return true }
        for entry in insecureRegistries {
            if entry == domain || entry == host { return true }
            if let range = IPv4Range(entry), let address = IPv4(host), range.contains(address) { return true }
        }
        return false
    }
}

/// A dotted-quad IPv4 address.
struct IPv4: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        self.bytes = bytes
    }

    var value: UInt32 { bytes.reduce(0) { $0 << 8 | UInt32($1) } }
}

/// An IPv4 CIDR range (`10.0.0.0/8`).
struct IPv4Range {
    let base: UInt32
    let mask: UInt32

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits) else { return nil }
        mask = bits == 0 ? 0 : UInt32.max << (32 - bits)
        base = address.value & mask
    }

    func contains(_ address: IPv4) -> Bool { address.value & mask == base }
}
