/// What can go wrong replicating, each with a message naming the object and what to do.
public enum ReplicationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The queue's database cannot be opened, read or written.
    case queueUnavailable(location: String, reason: String)
    /// A queue row holds an action this version does not know (written by a newer Berth).
    case unknownEvent(id: Int64, kind: String)
    /// A `--replicate-to` / `--to` value is not `NAME=URL[,option…]`.
    case invalidDestination(spec: String, reason: String)
    /// A notification body could not be read.
    case invalidNotification(reason: String)

    /// A sentence naming what failed.
    public var description: String {
        switch self {
        case let .queueUnavailable(location, reason):
            return "the replication queue at \(location) is unavailable: \(reason)"
        case let .unknownEvent(id, kind):
            return "replication event \(id) has the unknown action \"\(kind)\"; upgrade Berth to deliver it"
        case let .invalidDestination(spec, reason):
            return "invalid replication destination \"\(spec)\": \(reason) (expected NAME=URL, e.g. backup=https://registry.example:5000)"
        case let .invalidNotification(reason):
            return "invalid registry notification: \(reason)"
        }
    }
}
