import Registry

/// A registry changes are replicated to, as `--replicate-to NAME=URL[,insecure]` names it.
/// `http://` URLs (and loopback hosts, as for docker) are spoken to over plain HTTP, `https://`
/// ones with the certificate checked unless `insecure` is given; a URL without a scheme follows
/// docker's rules for a registry domain.
public struct ReplicationDestination: Sendable, Equatable {
    /// The name cursors and status use.
    public var name: String
    /// The URL as given.
    public var url: String
    /// Where the registry is reached.
    public var endpoint: RegistryEndpoint
    /// The login used with it, if any.
    public var credentials: RegistryCredentials?

    /// A destination; see each property.
    public init(name: String, url: String, endpoint: RegistryEndpoint, credentials: RegistryCredentials?) {
        self.name = name
        self.url = url
        self.endpoint = endpoint
        self.credentials = credentials
    }

    /// Parses `NAME=URL[,insecure]`; `credentials` supplies the login stored for a registry domain.
    public static func parse(_ spec: String, credentials: (String) throws -> RegistryCredentials? = { _ in nil }) throws -> ReplicationDestination {
        guard let equals = spec.firstIndex(of: "=") else { throw ReplicationError.invalidDestination(spec: spec, reason: "no \"=\"") }
        let name = String(spec[..<equals])
        guard !name.isEmpty, name.utf8.allSatisfy({ ReplicationDestination.nameBytes.contains($0) }) else {
            throw ReplicationError.invalidDestination(spec: spec, reason: "a name is letters, digits, \".\", \"_\" and \"-\"")
        }
        var parts = spec[spec.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let url = parts.removeFirst()
        var insecure = false
        for option in parts {
            switch option {
            case "insecure": insecure = true
            default: throw ReplicationError.invalidDestination(spec: spec, reason: "unknown option \"\(option)\" (known: insecure)")
            }
        }
        var domain = url
        if domain.hasPrefix("http://") {
            domain.removeFirst(7)
            insecure = true
        } else if domain.hasPrefix("https://") {
            domain.removeFirst(8)
        }
        while domain.hasSuffix("/") { domain.removeLast() }
        guard !domain.isEmpty, !domain.contains("/") else {
            throw ReplicationError.invalidDestination(spec: spec, reason: "the URL must name a registry host[:port], without a path")
        }
        let endpoint: RegistryEndpoint
        do {
            endpoint = try RegistryEndpoint(domain: domain, insecureRegistries: insecure ? [domain] : [])
        } catch {
            throw ReplicationError.invalidDestination(spec: spec, reason: "\(error)")
        }
        return ReplicationDestination(name: name, url: url, endpoint: endpoint, credentials: try credentials(domain))
    }

    private static let nameBytes = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".utf8))
}
