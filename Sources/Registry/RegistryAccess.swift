/// The daemon's registry settings, and clients made with them: which registries may be reached
/// over plain HTTP and where extra certificate authorities are (`<directory>/<registry>/*.crt`).
public struct RegistryAccess: Sendable {
    /// Registries allowed over plain HTTP (`host[:port]` or IPv4 CIDR), besides loopback.
    public var insecureRegistries: [String]
    /// Where `<registry>/*.crt` extra certificate authorities are looked up.
    public var certificatesDirectory: String?

    /// Settings as given; nothing is read until a client connects.
    public init(insecureRegistries: [String] = [], certificatesDirectory: String? = nil) {
        self.insecureRegistries = insecureRegistries
        self.certificatesDirectory = certificatesDirectory
    }

    /// A client for `repository` (a path such as `library/busybox`; empty for a login check)
    /// of the registry `domain`.
    public func client(domain: String, repository: String, credentials: RegistryCredentials?) throws -> RegistryClient {
        let endpoint = try RegistryEndpoint(domain: domain, insecureRegistries: insecureRegistries)
        return RegistryClient(endpoint: endpoint, repository: repository, credentials: credentials, certificatesDirectory: certificatesDirectory)
    }
}
