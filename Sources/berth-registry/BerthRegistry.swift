import ArgumentParser
import Glibc
import NIOCore
import NIOSSL
import Registry
import RegistryServer
import Replication

/// `berth-registry`: Berth's OCI registry server (distribution spec v1.1) and its garbage
/// collector. `berth registry …` runs it; it is its own executable so that the `berth` CLI
/// links no server or TLS code.
@main
struct BerthRegistry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth-registry", abstract: "Berth's OCI registry server.", subcommands: [Serve.self, GarbageCollect.self, ReplicationGroup.self, Replicate.self])
}

/// `berth-registry serve`: serves a registry root over HTTP or HTTPS.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve an OCI registry (distribution spec v1.1).")

    @Option(help: "Address to listen on, host:port (port 0 picks a free one).")
    var addr = "127.0.0.1:5000"

    @Option(help: "Directory holding the registry's blobs, manifests and uploads.")
    var root = "/var/lib/berth-registry"

    @Option(help: "htpasswd file with bcrypt entries (htpasswd -B); enables basic authentication.")
    var htpasswd: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; with --tls-key, serves HTTPS.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("upload-timeout"), help: "Seconds after which an idle upload is removed.")
    var uploadTimeout = 3600

    @Option(name: .customLong("replicate-to"), help: ArgumentHelp(
        "Replicate every accepted write to this registry, NAME=URL[,insecure] (repeatable).",
        discussion: "Writes are queued in <root>/replication.db before they become visible; pushes never wait for a destination."))
    var replicateTo: [String] = []

    @Option(help: ArgumentHelp("The replication queue: a SQLite file or a postgres:// URL (default: <root>/replication.db).",
                               discussion: "A PostgreSQL queue is shared: several registries append to it and several forwarders deliver it."))
    var queue: String?

    @OptionGroup var forwarding: ForwarderOptions

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard uploadTimeout > 0 else { throw ValidationError("--upload-timeout must be positive") }
        _ = try StoredCredentials.destinations(replicateTo, option: "--replicate-to")
        guard queue == nil || !replicateTo.isEmpty else { throw ValidationError("--queue goes with --replicate-to") }
        _ = try address()
    }

    private func address() throws -> (host: String, port: Int) {
        let parsed = try ListenAddress(addr)
        return (parsed.host, parsed.port)
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let (host, port) = try address()
        let secure = try tlsCert.map { cert in try Serve.tls(certificate: cert, key: tlsKey ?? "") }
        var configuration = RegistryServer.Configuration(
            host: host, port: port, root: root, uploadTimeoutSeconds: uploadTimeout,
            htpasswd: try htpasswd.map(HTPasswd.load), secureConnection: secure)
        let destinations = try StoredCredentials.destinations(replicateTo, option: "--replicate-to")
        if !destinations.isEmpty {
            configuration.replication = RegistryServer.Replicating(destinations: destinations, options: forwarding.options, queue: queue,
                                                                   log: { standardError("berth-registry: \($0)\n") })
        }
        let server = RegistryServer(configuration: configuration)
        let scheme = secure == nil ? "http" : "https"
        do {
            try await server.run { bound in
                standardError("berth-registry: serving \(scheme)://\(host):\(bound) from \(root)\n")
            }
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    /// A pipeline step that adds TLS with the PEM certificate chain and key.
    static func tls(certificate: String, key: String) throws -> @Sendable (Channel) throws -> Void {
        do {
            return try ServerTLS.handler(certificate: certificate, key: key)
        } catch {
            throw ValidationError("cannot load TLS certificate \(certificate) or key \(key): \(error)")
        }
    }
}

/// `berth-registry gc`: removes blobs no manifest references (and untagged manifests on request).
struct GarbageCollect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove blobs no manifest of any repository references.",
        discussion: "Refuses to run while a server holds the root. Blobs uploaded but not yet named by a manifest are removed too.")

    @Option(help: "The registry's root directory.")
    var root = "/var/lib/berth-registry"

    @Flag(name: .customLong("delete-untagged"), help: "Also remove manifests no tag reaches (directly, through an index, or as a referrer).")
    var deleteUntagged = false

    @Flag(name: .customLong("dry-run"), help: "Only print what would be removed.")
    var dryRun = false

    func run() throws {
        let report = try RegistryGarbageCollector.collect(root: root, deleteUntagged: deleteUntagged, dryRun: dryRun)
        var out = ""
        for manifest in report.removedManifests { out += "manifest \(manifest)\n" }
        for blob in report.removedBlobs { out += "blob \(blob)\n" }
        let verb = dryRun ? "would remove" : "removed"
        out += "\(verb) \(report.removedManifests.count) manifests and \(report.removedBlobs.count) blobs (\(report.freedBytes) bytes)\n"
        print(out, terminator: "")
    }
}

func standardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
