/// The instructions Dockerfile syntax defines, and the parser rules that differ between them
/// (docs.docker.com/reference/dockerfile, buildkit's `frontend/dockerfile/parser`).
enum Keyword: String, CaseIterable, Sendable {
    case from, run, cmd, label, maintainer, expose, env, add, copy, entrypoint, volume, user
    case workdir, arg, onbuild, stopsignal, healthcheck, shell

    /// The keyword for `written` in any case, nil when Dockerfile syntax has no such instruction.
    init?(written: String) {
        self.init(rawValue: written.lowercased())
    }

    /// The keyword as docker prints it: upper case.
    var name: String { rawValue.uppercased() }

    /// Whether a JSON array of strings is read as the exec form (or as a list of words).
    var acceptsJSON: Bool {
        switch self {
        case .run, .cmd, .entrypoint, .shell, .add, .copy, .volume: return true
        default: return false
        }
    }

    /// Whether `<<NAME` words on the line start heredocs whose bodies follow the line.
    var acceptsHeredocs: Bool {
        switch self {
        case .run, .copy, .add: return true
        default: return false
        }
    }

    /// The flags the instruction accepts, by name (without the leading `--`).
    var flagKinds: [String: FlagKind] {
        switch self {
        case .from:
            return ["platform": .string]
        case .run:
            return ["mount": .strings, "network": .string, "security": .string, "device": .strings]
        case .copy:
            return ["from": .string, "chown": .string, "chmod": .string, "link": .bool, "parents": .bool, "exclude": .strings]
        case .add:
            return ["chown": .string, "chmod": .string, "link": .bool, "keep-git-dir": .bool, "checksum": .string,
                    "exclude": .strings, "unpack": .bool]
        case .healthcheck:
            return ["interval": .string, "timeout": .string, "start-period": .string, "start-interval": .string, "retries": .string]
        default:
            return [:]
        }
    }
}

/// What kind of value a flag takes, as buildkit's `BFlags` declares it.
enum FlagKind: Sendable {
    /// `--name=value`, given at most once.
    case string
    /// `--name` or `--name=true|false`, given at most once.
    case bool
    /// `--name=value`, repeatable (`--mount`, `--exclude`).
    case strings
}
