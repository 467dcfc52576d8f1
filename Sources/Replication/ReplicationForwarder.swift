#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Registry

/// Delivers the queue to every destination, each at its own pace: per destination a loop
/// claims repositories with undelivered events, delivers each repository's events in order
/// (repositories in parallel), and moves the repository's cursor after each event. A failure
/// makes the repository wait with exponential back-off and jitter; a destination that cannot be
/// reached at all waits as a whole, so one that stays down for days only grows its lag.
///
/// Guarantees: at least once (a cursor moves only after the destination confirmed the event);
/// never two forwarders on one repository of one destination (claims, see `ReplicationQueue`);
/// a restart at any instant resumes from the cursors.
public final class ReplicationForwarder: Sendable {
    /// Tuning; the defaults suit a registry on a LAN or WAN.
    public struct Options: Sendable {
        /// Repositories of one destination delivered at once.
        public var parallelRepositories = 4
        /// Seconds a claim lasts without progress before another forwarder may take it.
        public var lease = 60.0
        /// First retry delay, seconds.
        public var backoffBase = 0.5
        /// Longest retry delay, seconds.
        public var backoffMax = 300.0
        /// Seconds between looks at the queue when nothing woke the forwarder (other processes
        /// may append to a shared queue).
        public var pollInterval = 2.0
        /// Events of one repository delivered under one claim before others get a turn.
        public var batch = 256
        /// Seconds an event whose write the source does not show yet is waited for before it
        /// is taken as never published (the writer died between queueing and publishing).
        public var settleWindow = 30.0

        /// The defaults.
        public init() {}
    }

    private let queue: any ReplicationQueue
    private let source: any ReplicationSource
    private let destinations: [ReplicationDestination]
    private let options: Options
    private let owner: String
    private let signals: [String: WakeSignal]
    private let log: @Sendable (String) -> Void
    /// Counts deliveries for `/metrics`.
    public let metrics = ReplicationMetrics()

    /// A forwarder for `destinations`; nothing runs until `run`. `identity` names it in the
    /// queue's claims and must be held by one process at a time and kept across its restarts
    /// (see `identity(of:)`), so a restarted forwarder takes back its own claims at once.
    public init(queue: any ReplicationQueue, source: any ReplicationSource, destinations: [ReplicationDestination],
                identity: String, options: Options = Options(), log: @escaping @Sendable (String) -> Void) {
        self.queue = queue
        self.source = source
        self.destinations = destinations
        self.options = options
        self.log = log
        owner = identity
        signals = Dictionary(uniqueKeysWithValues: destinations.map { ($0.name, WakeSignal()) })
    }

    /// The identity of the forwarder whose state is in `directory` (a registry's root or a
    /// stand-alone forwarder's state, locked by its process): this host's name and the path.
    public static func identity(of directory: String) -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(hostName):\(directory)"
    }

    /// Tells every destination loop that events were appended.
    public func wake() {
        for signal in signals.values { Task { await signal.signal() } }
    }

    /// Registers the destinations with the queue and delivers until cancelled.
    public func run() async throws {
        try await queue.register(destinations: destinations.map { ($0.name, $0.url) })
        try await queue.releaseClaims(of: owner)
        await withDiscardingTaskGroup { group in
            for destination in destinations {
                group.addTask { await self.loop(destination) }
            }
        }
    }

    private enum Outcome {
        case idle
        case progressed
        case destinationDown(String)
        case failed
    }

    private func loop(_ destination: ReplicationDestination) async {
        let writer = DestinationWriter(destination: destination, source: source)
        let signal = signals[destination.name] ?? WakeSignal()
        var downAttempts = 0
        while !Task.isCancelled {
            let claims: [RepositoryClaim]
            do {
                claims = try await queue.claim(destination: destination.name, owner: owner, limit: options.parallelRepositories, lease: options.lease)
            } catch {
                log("replication to \(destination.name): \(error)")
                await signal.wait(seconds: options.pollInterval)
                continue
            }
            if claims.isEmpty {
                await signal.wait(seconds: options.pollInterval)
                continue
            }
            let outcomes = await withTaskGroup(of: Outcome.self) { group in
                for claim in claims { group.addTask { await self.deliver(claim, to: destination, with: writer) } }
                var all: [Outcome] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            if let reason = outcomes.lazy.compactMap({ if case .destinationDown(let r) = $0 { r } else { nil } }).first {
                downAttempts += 1
                try? await queue.destinationError(destination.name, error: reason)
                let delay = Backoff.delay(attempt: downAttempts, base: options.backoffBase, cap: options.backoffMax)
                log("replication to \(destination.name): \(reason); retrying in \(String(format: "%.1f", delay)) s")
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            } else if outcomes.contains(where: { if case .progressed = $0 { true } else { false } }), downAttempts > 0 {
                downAttempts = 0
                try? await queue.destinationError(destination.name, error: nil)
            }
        }
    }

    /// Delivers one claimed repository's events in order until none are left, the batch is
    /// done, or one fails.
    private func deliver(_ claim: RepositoryClaim, to destination: ReplicationDestination, with writer: DestinationWriter) async -> Outcome {
        var cursor = claim.delivered
        var sent = 0
        var outcome = Outcome.idle
        do {
            while sent < options.batch, !Task.isCancelled {
                let events = try await queue.events(repository: claim.repository, after: cursor, limit: min(64, options.batch - sent))
                if events.isEmpty { break }
                for event in events {
                    do {
                        try await settle(event, claim, with: writer)
                    } catch {
                        let retry = WallClock.now + Backoff.delay(attempt: claim.attempts + 1, base: options.backoffBase, cap: options.backoffMax)
                        let message = "\(claim.repository): \(event.change.action): \(error)"
                        try? await queue.failed(destination: destination.name, repository: claim.repository, owner: owner, error: message, retryAt: retry)
                        return ReplicationForwarder.isDestinationDown(error) ? .destinationDown(message) : .failed
                    }
                    guard try await queue.delivered(destination: destination.name, repository: claim.repository, through: event.id,
                                                    owner: owner, lease: options.lease) else {
                        log("replication to \(destination.name): lost the claim on \(claim.repository) (lease expired); another forwarder goes on")
                        return outcome
                    }
                    metrics.delivered(to: destination.name)
                    cursor = event.id
                    sent += 1
                    outcome = .progressed
                }
            }
            try await queue.release(destination: destination.name, repository: claim.repository, owner: owner)
        } catch {
            log("replication to \(destination.name): \(error)")
        }
        return outcome
    }

    /// Applies `event`. When the source disagrees with it: done if a later event of the queue
    /// is about the same object (it carries the present state), waited for while the event is
    /// younger than the settle window (its write is being published), else done too (the
    /// write never became visible, so there is nothing to replicate).
    private func settle(_ event: ReplicationEvent, _ claim: RepositoryClaim, with writer: DestinationWriter) async throws {
        while true {
            do {
                try await writer.apply(event)
                return
            } catch is SourceDisagrees {
                if try await queue.hasLaterEvent(about: event) { return }
                if WallClock.now - event.recordedAt >= options.settleWindow || Task.isCancelled { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Whether `error` says the destination as a whole cannot be reached (as opposed to a
    /// problem with one object).
    static func isDestinationDown(_ error: Error) -> Bool {
        switch error as? RegistryError {
        case .unreachable?, .notAnswered?, .protocolError?: return true
        case .unexpectedStatus(let code, _, _)?: return code >= 500 || code == 429
        default: return false
        }
    }
}

/// Exponential back-off with jitter: attempt n waits between half and all of
/// min(cap, base·2ⁿ⁻¹) seconds, so retries of many clients spread out.
enum Backoff {
    static func delay(attempt: Int, base: Double, cap: Double) -> Double {
        let exponential = min(cap, base * pow(2, Double(max(0, min(attempt - 1, 40)))))
        return exponential * Double.random(in: 0.5...1.0)
    }
}

/// Wakes a waiting loop early; a signal sent while nobody waits is kept for the next wait.
actor WakeSignal {
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?
    private var generation = 0

    /// Ends the current wait, or the next one at once.
    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            pending = true
        }
    }

    /// Returns after a signal or `seconds`, whichever comes first.
    func wait(seconds: Double) async {
        if pending {
            pending = false
            return
        }
        generation += 1
        let mine = generation
        await withCheckedContinuation { continuation in
            waiter = continuation
            Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                self.expire(mine)
            }
        }
    }

    private func expire(_ generation: Int) {
        guard generation == self.generation, let waiter else { return }
        self.waiter = nil
        waiter.resume()
    }
}
