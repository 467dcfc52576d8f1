/// An image reference as docker parses it: `[domain/]path[:tag][@digest]`, normalized the way
/// docker does (`busybox` → `docker.io/library/busybox:latest`).
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host, with port if any (`docker.io`, `127.0.0.1:5000`).
    public let domain: String
    /// Repository path inside the registry (`library/busybox`).
    public let path: String
    /// The tag, if the reference names one (`latest` is filled in when neither tag nor digest is).
    public let tag: String?
    /// The digest, if the reference pins one.
    public let digest: Digest?

    public static let defaultDomain = "docker.io"

    /// Parses `string`; a reference with neither tag nor digest gets the tag `latest`.
    public init(parsing string: String) throws {
        guard !string.isEmpty else { throw OCIError.invalidReference(string, reason: "empty reference") }
        var rest = Substring(string)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let t = String(rest[rest.index(after: colon)...])
            guard Reference.isValidTag(t) else { throw OCIError.invalidReference(string, reason: "invalid tag \"\(t)\"") }
            tag = t
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var domain = Reference.defaultDomain
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
            domain = first
            components.removeFirst()
        }
        if domain == "index.docker.io" { domain = Reference.defaultDomain }
        if domain == Reference.defaultDomain && components.count == 1 { components.insert("library", at: 0) }
        for component in components {
            if component.lowercased() != component {
                throw OCIError.invalidReference(string, reason: "repository name must be lowercase")
            }
            guard Reference.isValidPathComponent(component) else {
                throw OCIError.invalidReference(string, reason: "invalid repository name component \"\(component)\"")
            }
        }
        let path = components.joined(separator: "/")
        guard path.utf8.count + domain.utf8.count < 255 else {
            throw OCIError.invalidReference(string, reason: "repository name must not be longer than 255 characters")
        }
        self.domain = domain
        self.path = path
        self.digest = digest
        self.tag = tag ?? (digest == nil ? "latest" : nil)
    }

    /// `domain/path`, fully qualified.
    public var repository: String { "\(domain)/\(path)" }

    /// The repository as docker shows it: `busybox`, `example/bb`, `127.0.0.1:5000/x`.
    public var familiarRepository: String {
        guard domain == Reference.defaultDomain else { return repository }
        if path.hasPrefix("library/") && path.split(separator: "/").count == 2 { return String(path.dropFirst("library/".count)) }
        return path
    }

    /// `familiarRepository:tag` (or `@digest`), as docker shows it in `images` and `RepoTags`.
    public var familiar: String {
        if let tag { return "\(familiarRepository):\(tag)" }
        if let digest { return "\(familiarRepository)@\(digest)" }
        return familiarRepository
    }

    public var description: String {
        var s = repository
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// A copy of this reference with a different tag and no digest.
    public func withTag(_ tag: String) throws -> Reference {
        try Reference(parsing: "\(repository):\(tag)")
    }

    /// Whether `t` is a valid tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    public static func isValidTag(_ t: String) -> Bool {
        let bytes = Array(t.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.dropFirst().allSatisfy { isWord($0) || $0 == 0x2e || $0 == 0x2d }
    }

    /// Whether `c` is a valid repository path component: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
    public static func isValidPathComponent(_ c: String) -> Bool {
        let bytes = Array(c.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if isLowerAlnum(bytes[i]) { i += 1; continue }
            var j = i
            while j < bytes.count, !isLowerAlnum(bytes[j]) { j += 1 }
            let sep = bytes[i..<j]
            let ok = sep.elementsEqual([0x2e]) || sep.elementsEqual([0x5f]) || sep.elementsEqual([0x5f, 0x5f]) || sep.allSatisfy { $0 == 0x2d }
            if !ok { return false }
            i = j
        }
        return true
    }

    private static func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) }
    private static func isWord(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f
    }
}
