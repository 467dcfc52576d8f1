import OCI

/// `HostConfig.SecurityOpt` as moby reads it: `KEY=VALUE` (or the old `KEY:VALUE`) entries for
/// seccomp, no-new-privileges, systempaths, and the LSM keys `label` and `apparmor`, which are
/// accepted and have no effect on a host without an LSM (this one has neither).
public struct SecurityOptions: Sendable, Equatable {
    /// Which seccomp filter a container gets.
    public enum SeccompChoice: Sendable, Equatable {
        /// docker's default profile, adjusted to the container's capabilities.
        case builtin
        /// No filter (`seccomp=unconfined`).
        case unconfined
        /// The profile sent as `seccomp=<JSON>` (the docker CLI sends a file's content).
        case profile(SeccompProfile)
    }

    public var seccomp: SeccompChoice = .builtin
    public var noNewPrivileges = false
    /// `systempaths=unconfined`: no masked or read-only paths in /proc and /sys.
    public var unmaskedSystemPaths = false

    /// Parses every entry; an unknown key or bad value is an error naming the entry.
    public init(_ entries: [String]) throws {
        for entry in entries {
            let separator = entry.firstIndex(of: "=") ?? entry.firstIndex(of: ":")
            let key = separator.map { String(entry[..<$0]) } ?? entry
            let value = separator.map { String(entry[entry.index(after: $0)...]) }
            switch (key, value) {
            case ("no-new-privileges", nil):
                noNewPrivileges = true
            case let ("no-new-privileges", flag?):
                guard let parsed = Bool(flag) else {
                    throw EngineError.invalidParameter("invalid --security-opt 2: \"\(entry)\"")
                }
                noNewPrivileges = parsed
            case ("seccomp", "unconfined"):
                seccomp = .unconfined
            case ("seccomp", "builtin"):
                seccomp = .builtin
            case let ("seccomp", text?):
                seccomp = .profile(try SeccompProfile.decode(text))
            case ("systempaths", "unconfined"):
                unmaskedSystemPaths = true
            case ("label", _?), ("apparmor", _?):
                continue
            default:
                throw EngineError.invalidParameter("invalid --security-opt: \"\(entry)\"")
            }
        }
    }

    /// The OCI seccomp profile for a container with `capabilities` (its bounding set); nil
    /// without a filter: unconfined, or privileged with the default profile (moby's rule).
    public func seccompProfile(capabilities: [String], privileged: Bool) -> RuntimeSpec.Seccomp? {
        switch seccomp {
        case .unconfined: return nil
        case .builtin: return privileged ? nil : DefaultSeccompProfile.resolved(capabilities: capabilities)
        case let .profile(profile): return privileged ? nil : profile.resolved(capabilities: capabilities)
        }
    }
}
