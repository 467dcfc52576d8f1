/// An absolute `http` or `https` URL, split the way an HTTP/1.1 client needs it. Only what
/// registries use: no user info, no fragments.
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    /// `https` when true, `http` otherwise.
    public var secure: Bool
    /// The host name or address (IPv6 without brackets).
    public var host: String
    /// The port (the scheme's default when the URL names none).
    public var port: Int
    /// Path and query, starting with `/` (the request target).
    public var target: String

    /// A URL from its parts; `port` defaults to the scheme's.
    public init(secure: Bool, host: String, port: Int? = nil, target: String) {
        self.secure = secure
        self.host = host
        self.port = port ?? (secure ? 443 : 80)
        self.target = target.hasPrefix("/") ? target : "/" + target
    }

    /// Parses `scheme://host[:port][/path][?query]`; IPv6 hosts in brackets.
    public init(parsing text: String) throws {
        let secure: Bool
        let rest: Substring
        if text.hasPrefix("https://") {
            secure = true
            rest = text.dropFirst("https://".count)
        } else if text.hasPrefix("http://") {
            secure = false
            rest = text.dropFirst("http://".count)
        } else {
            throw RegistryError.malformed(what: "URL \(text)", reason: "it must start with http:// or https://")
        }
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<slash]
        var target = String(rest[slash...])
        if target.isEmpty { target = "/" }
        let (host, port) = try HTTPURL.split(authority: authority, in: text)
        guard !host.isEmpty, !host.contains("@") else {
            throw RegistryError.malformed(what: "URL \(text)", reason: "no usable host")
        }
        self.init(secure: secure, host: host, port: port, target: target)
    }

    /// `host[:port]` → host and port; `[v6]:port` keeps the brackets off the host.
    static func split(authority: Substring, in text: String) throws -> (String, Int?) {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw RegistryError.malformed(what: "URL \(text)", reason: "unclosed [ in the host")
            }
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            guard !after.isEmpty else { return (host, nil) }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), (1...65535).contains(port) else {
                throw RegistryError.malformed(what: "URL \(text)", reason: "invalid port")
            }
            return (host, port)
        }
        if let colon = authority.lastIndex(of: ":") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                throw RegistryError.malformed(what: "URL \(text)", reason: "invalid port")
            }
            return (String(authority[..<colon]), port)
        }
        return (String(authority), nil)
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    public var authority: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? shownHost : "\(shownHost):\(port)"
    }

    /// The URL `location` (a `Location` header) refers to, relative to this one.
    public func resolving(_ location: String) throws -> HTTPURL {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return try HTTPURL(parsing: location) }
        if location.hasPrefix("//") { return try HTTPURL(parsing: (secure ? "https:" : "http:") + location) }
        if location.hasPrefix("/") { return HTTPURL(secure: secure, host: host, port: port, target: location) }
        let directory = target.split(separator: "?", maxSplits: 1).first.map { String($0) } ?? "/"
        let base = directory.hasSuffix("/") ? directory : String(directory[...(directory.lastIndex(of: "/") ?? directory.startIndex)])
        return HTTPURL(secure: secure, host: host, port: port, target: base + location)
    }

    /// The URL as text.
    public var description: String { "\(secure ? "https" : "http")://\(authority)\(target)" }
}
