#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import BerthSystem
import DockerConfig
import Glibc
import Registry
import RegistryServer
import Replication

/// The forwarder's tuning, shared by `serve --replicate-to` and `replicate`.
struct ForwarderOptions: ParsableArguments {
    @Option(name: .customLong("replication-parallel"), help: "Repositories delivered at once to each destination.")
    var parallel = 4

    @Option(name: .customLong("replication-backoff-max"), help: "Longest wait, in seconds, before a failed delivery is retried.")
    var backoffMax = 300.0

    @Option(name: .customLong("replication-poll"), help: "Seconds between looks at the queue when nothing is known to be new.")
    var poll = 2.0

    @Option(name: .customLong("replication-lease"), help: ArgumentHelp(
        "Seconds a forwarder's claim on a repository lasts without progress.",
        discussion: "When a forwarder sharing a queue dies, another takes its repositories over after this long."))
    var lease = 60.0

    func validate() throws {
        guard parallel > 0 else { throw ValidationError("--replication-parallel must be positive") }
        guard backoffMax > 0, poll > 0, lease > 0 else {
            throw ValidationError("--replication-backoff-max, --replication-poll and --replication-lease must be positive")
        }
    }

    var options: ReplicationForwarder.Options {
        var options = ReplicationForwarder.Options()
        options.parallelRepositories = parallel
        options.backoffMax = backoffMax
        options.backoffBase = min(options.backoffBase, backoffMax)
        options.pollInterval = poll
        options.lease = lease
        return options
    }
}

/// Which queue a command works on: a registry root's embedded one, or one named directly.
struct QueueLocation: ParsableArguments {
    @Option(help: "The registry's root directory (its queue is <root>/replication.db).")
    var root = "/var/lib/berth-registry"

    @Option(help: "The queue: a SQLite file or a postgres:// URL (default: the root's embedded queue).")
    var queue: String?

    /// Opens the queue; refuses to create an embedded one where none is.
    func open() throws -> any ReplicationQueue {
        let location = queue ?? RegistryServer.replicationQueuePath(root: root)
        guard PostgresReplicationQueue.isPostgres(location) || FileSystem.exists(location) else {
            throw ValidationError("no replication queue at \(location): the registry has not run with --replicate-to (or give --root/--queue)")
        }
        return try ReplicationQueues.open(location)
    }

    /// The destination `name` the queue knows, with the login stored for it.
    func destination(_ name: String, in queue: any ReplicationQueue) async throws -> ReplicationDestination {
        guard let known = try await queue.status().first(where: { $0.name == name }) else {
            throw ValidationError("the queue has no destination named \(name)")
        }
        return try ReplicationDestination.parse("\(name)=\(known.url)", credentials: StoredCredentials.lookup)
    }
}

/// `berth-registry replication …`: inspects and steers replication.
struct ReplicationGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replication", abstract: "Show and steer replication to other registries.",
                                                    subcommands: [ReplicationStatusCommand.self, ReplicationRewind.self, ReplicationResyncCommand.self])
}

/// `berth-registry replication status [--json]`: per destination the lag in events and seconds,
/// the oldest undelivered event and the last error.
struct ReplicationStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show how far each destination is behind.")

    @OptionGroup var location: QueueLocation

    @Flag(help: "Print JSON (an array, one object per destination).")
    var json = false

    func run() async throws {
        let statuses = try await location.open().status()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(statuses), as: UTF8.self))
            return
        }
        var rows = [["DESTINATION", "URL", "PENDING", "LAG", "OLDEST UNDELIVERED", "LAST ERROR"]]
        for status in statuses {
            rows.append([status.name, status.url, String(status.pendingEvents), ReplicationStatusCommand.seconds(status.lagSeconds),
                         status.oldestUndelivered ?? "-", status.lastError ?? "-"])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0) }
            print(cells.joined())
        }
    }

    static func seconds(_ value: Double) -> String {
        value < 10 ? String(format: "%.1fs", value) : "\(Int(value.rounded()))s"
    }
}

/// `berth-registry replication rewind NAME`: delivers the whole queue to NAME again.
struct ReplicationRewind: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewind", abstract: "Deliver the whole queue to a destination again.",
        discussion: "Delivery is idempotent: a destination that is in sync is not changed. A running forwarder picks the work up.")

    @OptionGroup var location: QueueLocation

    @Argument(help: "The destination's name.")
    var name: String

    func run() async throws {
        let queue = try location.open()
        _ = try await location.destination(name, in: queue)
        try await queue.rewind(destination: name)
        print(name)
    }
}

/// `berth-registry replication resync NAME`: compares NAME with the source and queues what
/// differs.
struct ReplicationResyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync", abstract: "Compare a destination with the source and queue what differs.",
        discussion: "Compares the catalog, the tags and the digests they point to. A running forwarder delivers the queued changes.")

    @OptionGroup var location: QueueLocation

    @Option(help: "The source registry's URL, for a stand-alone forwarder's queue (default: the registry under --root).")
    var source: String?

    @Argument(help: "The destination's name.")
    var name: String

    func run() async throws {
        let queue = try location.open()
        let destination = try await location.destination(name, in: queue)
        let origin: any ReplicationSource
        if let source {
            origin = try StoredCredentials.remoteSource(source, cacheDirectory: location.root + "/resync-blobs")
        } else {
            origin = try StorageSource(root: location.root)
        }
        let changes = try await ReplicationResync.differences(source: origin, destination: destination)
        try queue.append(changes)
        print("queued \(changes.count) changes for \(name)")
    }
}

/// `berth-registry replicate`: the stand-alone forwarder beside an existing registry.
struct Replicate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate", abstract: "Replicate a registry that sends notifications to other registries.",
        discussion: """
            Point the registry's notifications at --listen (docker-distribution: notifications.endpoints[].url = \
            http://HOST:PORT/events). Each notification is queued durably before it is acknowledged; the changes are \
            read back from --source when they are delivered.
            """)

    @Option(help: "The registry replicated from, URL (http://host:port or https://host:port).")
    var source: String

    @Option(help: "Address the notifications are received on, host:port.")
    var listen = "127.0.0.1:5050"

    @Option(help: "Directory for the queue (queue.db) and blobs in transit; one forwarder uses it at a time.")
    var state = "/var/lib/berth-replicate"

    @Option(help: ArgumentHelp("The queue: a SQLite file or a postgres:// URL (default: <state>/queue.db).",
                               discussion: "Forwarders sharing a PostgreSQL queue share its work; give each its own --state."))
    var queue: String?

    @Option(name: .customLong("to"), help: "A destination, NAME=URL[,insecure] (repeatable).")
    var to: [String] = []

    @OptionGroup var forwarding: ForwarderOptions

    func validate() throws {
        guard !to.isEmpty else { throw ValidationError("give at least one --to NAME=URL") }
        _ = try StoredCredentials.destinations(to, option: "--to")
        _ = try ListenAddress(listen)
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let address = try ListenAddress(listen)
        let destinations = try StoredCredentials.destinations(to, option: "--to")
        try FileSystem.makeDirectories(state, mode: 0o700)
        let lock = try RootLock(root: state)
        defer { lock.release() }
        let store = try ReplicationQueues.open(queue ?? state + "/queue.db")
        let remote = try StoredCredentials.remoteSource(source, cacheDirectory: state + "/blobs")
        let forwarder = ReplicationForwarder(queue: store, source: remote, destinations: destinations,
                                             identity: ReplicationForwarder.identity(of: Paths.absolute(state)), options: forwarding.options,
                                             log: { standardError("berth-registry replicate: \($0)\n") })
        let server = NotificationServer(host: address.host, port: address.port, queue: store, forwarder: forwarder)
        let shown = listen
        do {
            try await server.run { bound in
                standardError("berth-registry replicate: notifications on http://\(shown) (port \(bound)), from \(source)\n")
            }
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }
}

/// A `host:port` to listen on (`[v6]:port` too; an empty host is every address).
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("the address must be host:port, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}

/// Logins stored the way docker keeps them, for destinations and sources.
enum StoredCredentials {
    /// The login for a registry domain from `$DOCKER_CONFIG/config.json` (or its helper).
    static func lookup(_ domain: String) throws -> RegistryCredentials? {
        guard let login = try AuthConfigFile.standard().credentials(forDomain: domain) else { return nil }
        return RegistryCredentials(username: login.username, password: login.password, identityToken: login.identityToken)
    }

    /// The destinations `specs` name (`NAME=URL[,insecure]`), with their logins; names must differ.
    static func destinations(_ specs: [String], option: String) throws -> [ReplicationDestination] {
        let parsed = try specs.map { spec in
            do {
                return try ReplicationDestination.parse(spec, credentials: lookup)
            } catch {
                throw ValidationError("\(option): \(error)")
            }
        }
        guard Set(parsed.map(\.name)).count == parsed.count else { throw ValidationError("\(option) names must differ") }
        return parsed
    }

    /// The registry at `url` read as a replication source, blobs staged under `cacheDirectory`.
    static func remoteSource(_ url: String, cacheDirectory: String) throws -> RemoteRegistrySource {
        let origin = try ReplicationDestination.parse("source=\(url)", credentials: lookup)
        return try RemoteRegistrySource(endpoint: origin.endpoint, credentials: origin.credentials, cacheDirectory: cacheDirectory)
    }
}
