import BerthSystem
import Synchronization

/// Where the engine's services publish what happens and where `docker events`, the restart
/// supervisor and health checks learn of it. Guarantees: events are delivered to every
/// subscriber in the order they were published; the last `capacity` events are kept for
/// subscribers that ask for past ones (`--since`); a slow subscriber never blocks a publisher
/// (its stream buffers).
public final class EventBus: Sendable {
    /// How many past events are kept (dockerd keeps 256).
    public let capacity: Int
    private struct State {
        var recent: [EngineEvent] = []
        var subscribers: [UInt64: AsyncStream<EngineEvent>.Continuation] = [:]
        var nextToken: UInt64 = 0
    }
    private let state = Mutex(State())

    public init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// Records `event` and hands it to every subscriber.
    public func publish(_ event: EngineEvent) {
        state.withLock { state in
            state.recent.append(event)
            if state.recent.count > capacity { state.recent.removeFirst(state.recent.count - capacity) }
            for continuation in state.subscribers.values { continuation.yield(event) }
        }
    }

    /// A subscription: the kept events from `since` on (none when nil), then every event
    /// published from now on, with no gap and no repeat between the two. End it with
    /// `cancel` (or by dropping the stream).
    public func subscribe(since: Timestamp? = nil) -> Subscription {
        var continuation: AsyncStream<EngineEvent>.Continuation!
        let stream = AsyncStream<EngineEvent>(bufferingPolicy: .unbounded) { continuation = $0 }
        let (token, past) = state.withLock { state -> (UInt64, [EngineEvent]) in
            state.nextToken += 1
            state.subscribers[state.nextToken] = continuation
            let past = since.map { since in state.recent.filter { $0.time >= since } } ?? []
            return (state.nextToken, past)
        }
        continuation.onTermination = { [weak self] _ in self?.remove(token) }
        return Subscription(past: past, events: stream, cancel: { [weak self] in self?.remove(token) })
    }

    private func remove(_ token: UInt64) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: token) }
        continuation?.finish()
    }

    /// Past events and the live stream of one subscriber.
    public struct Subscription: Sendable {
        public let past: [EngineEvent]
        public let events: AsyncStream<EngineEvent>
        public let cancel: @Sendable () -> Void
    }
}
