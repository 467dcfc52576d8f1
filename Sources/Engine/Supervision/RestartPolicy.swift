import BerthSystem

/// A container's restart policy (`--restart no|on-failure[:N]|always|unless-stopped`), checked
/// with docker's rules and words.
public enum RestartPolicyKind: Equatable, Sendable, Codable {
    case no
    case onFailure(maximumRetries: Int)
    case always
    case unlessStopped

    /// The policy named `name` (empty: `no`) with `maximumRetryCount` (only for `on-failure`);
    /// 400 in docker's words when it is not one.
    public init(name: String?, maximumRetryCount: Int?) throws {
        let retries = maximumRetryCount ?? 0
        switch name ?? "" {
        case "", "no": self = .no
        case "always": self = .always
        case "unless-stopped": self = .unlessStopped
        case "on-failure":
            guard retries >= 0 else { throw EngineError.invalidParameter("invalid restart policy: maximum retry count cannot be negative") }
            self = .onFailure(maximumRetries: retries)
            return
        case let other:
            throw EngineError.invalidParameter("invalid restart policy: unknown policy '\(other)'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")
        }
        if retries != 0 {
            throw EngineError.invalidParameter("invalid restart policy: maximum retry count can only be used with 'on-failure'")
        }
    }

    /// docker's name of the policy.
    public var name: String {
        switch self {
        case .no: "no"
        case .onFailure: "on-failure"
        case .always: "always"
        case .unlessStopped: "unless-stopped"
        }
    }

    /// The retries `on-failure` allows (0: unlimited); 0 for the others.
    public var maximumRetryCount: Int {
        if case .onFailure(let maximum) = self { return maximum }
        return 0
    }

    private enum CodingKeys: String, CodingKey { case name, maximumRetryCount }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(name: c.decode(String.self, forKey: .name), maximumRetryCount: c.decodeIfPresent(Int.self, forKey: .maximumRetryCount))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        if maximumRetryCount != 0 { try c.encode(maximumRetryCount, forKey: .maximumRetryCount) }
    }
}

/// When a container that stopped by itself is started again (moby's restart manager): the
/// policy decides whether, and a back-off decides when — 100 ms after the first exit, doubling
/// with each restart up to one minute, back to 100 ms once a run lasted 10 seconds.
public struct RestartBackoff: Sendable, Equatable {
    /// The delay before the previous restart (zero before the first).
    public private(set) var delayNanoseconds: UInt64 = 0

    public static let initialNanoseconds: UInt64 = 100_000_000
    public static let maximumNanoseconds: UInt64 = 60_000_000_000

    public init() {}

    /// Whether a container that exited with `exitCode` after running `ranNanoseconds` is
    /// restarted under `policy`, having been restarted `restartCount` times already; when it
    /// is, the delay to wait. A container stopped by the user (`stop`, `kill`) never is.
    public mutating func next(policy: RestartPolicyKind, exitCode: Int32, manuallyStopped: Bool, restartCount: Int,
                              ranNanoseconds: UInt64) -> UInt64? {
        guard !manuallyStopped else { return nil }
        switch policy {
        case .no: return nil
        case .always, .unlessStopped: break
        case .onFailure(let maximum):
            guard exitCode != 0, maximum == 0 || restartCount < maximum else { return nil }
        }
        if ranNanoseconds >= 10_000_000_000 { delayNanoseconds = 0 }
        delayNanoseconds = delayNanoseconds == 0 ? Self.initialNanoseconds : min(delayNanoseconds * 2, Self.maximumNanoseconds)
        return delayNanoseconds
    }

    /// Whether a container found stopped when the daemon starts is started (docker's rule on a
    /// daemon restart: `always` even after a manual stop, the others as after an exit).
    public static func startsWithDaemon(policy: RestartPolicyKind, exitCode: Int32, manuallyStopped: Bool, restartCount: Int) -> Bool {
        switch policy {
        case .no: return false
        case .always: return true
        case .unlessStopped: return !manuallyStopped
        case .onFailure(let maximum): return !manuallyStopped && exitCode != 0 && (maximum == 0 || restartCount < maximum)
        }
    }
}
