import BerthSystem
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// How an HTTPS connection checks the server: against the system's trust store plus the CA
/// certificates in `<certificates directory>/<registry>/*.crt` (docker's `certs.d` layout), or
/// not at all for an insecure registry (docker: "if HTTPS is available but the certificate is
/// invalid, ignore the error").
public struct TLSPolicy: Sendable, Hashable {
    /// Whether the server's certificate chain and name are checked.
    public var verify: Bool
    /// PEM files of extra certificate authorities.
    public var extraRoots: [String]

    /// A policy as given.
    public init(verify: Bool, extraRoots: [String] = []) {
        self.verify = verify
        self.extraRoots = extraRoots
    }

    /// The policy for `domain`: `*.crt` files of `directory/domain/` as extra roots.
    public static func forRegistry(_ domain: String, secure: Bool, certificatesDirectory: String?) -> TLSPolicy {
        var roots: [String] = []
        if let directory = certificatesDirectory, !domain.contains("/"), domain != ".", domain != ".." {
            let folder = directory + "/" + domain
            roots = FileSystem.listDirectory(folder).filter { $0.hasSuffix(".crt") }.sorted().map { folder + "/" + $0 }
        }
        return TLSPolicy(verify: secure, extraRoots: roots)
    }

    /// Adds a TLS client handler for `host` to `channel`'s pipeline.
    func addHandler(to channel: Channel, host: String) throws {
        let context = try TLSContexts.shared.context(for: self)
        // SNI carries names only; an IP address is checked against the certificate's IP SANs.
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host))
    }
}

/// TLS contexts by policy: loading the system trust store is too slow to repeat per connection.
final class TLSContexts: Sendable {
    static let shared = TLSContexts()
    private let contexts = NIOLockedValueBox<[TLSPolicy: NIOSSLContext]>([:])

    func context(for policy: TLSPolicy) throws -> NIOSSLContext {
        if let known = contexts.withLockedValue({ $0[policy] }) { return known }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = policy.verify ? .fullVerification : .none
        configuration.additionalTrustRoots = policy.extraRoots.map { .file($0) }
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLockedValue { $0[policy] = context }
        return context
    }
}
