import BerthSystem

/// One thing that happened to an object of the engine, as `docker events` reports it: the
/// object's type, the action (`create`, `die`, `exec_start: sh -c …`), the object's ID and
/// docker's attributes (`name`, `image`, `exitCode`, `signal`, labels, …).
public struct EngineEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case container, image, volume, network, daemon
    }

    public var type: Kind
    public var action: String
    public var actorID: String
    public var attributes: [String: String]
    public var time: Timestamp

    public init(type: Kind, action: String, actorID: String, attributes: [String: String] = [:], time: Timestamp = .now()) {
        self.type = type
        self.action = action
        self.actorID = actorID
        self.attributes = attributes
        self.time = time
    }

    /// The action without what follows `:` (`exec_start: sh` → `exec_start`), as docker's
    /// `event=` filter matches it.
    public var baseAction: String {
        action.split(separator: ":", maxSplits: 1).first.map(String.init) ?? action
    }
}
