import NIOCore
import NIOSSL

/// TLS for the registry server, from PEM files.
public enum ServerTLS {
    /// A pipeline step (for `RegistryServer.Configuration.secureConnection`) that adds TLS with
    /// the certificate chain in `certificate` and the private key in `key`. Throws when either
    /// cannot be loaded.
    public static func handler(certificate: String, key: String) throws -> @Sendable (Channel) throws -> Void {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)))
        return { channel in try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
    }
}
