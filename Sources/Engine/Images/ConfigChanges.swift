#if canImport(FoundationEssentials)
import BerthSystem
import FoundationEssentials
#else
import Foundation
#endif
import OCI

/// Applies docker's `--change` instructions (`import -c`, `commit -c`) to an image's container
/// defaults. Accepts CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL and HEALTHCHECK
/// in Dockerfile syntax (JSON or shell form); anything else is an `invalidParameter` error that
/// names the instruction.
public enum ConfigChanges {
    public static func apply(_ changes: [String], to defaults: ContainerDefaults) throws -> ContainerDefaults {
        var d = defaults
        for change in changes {
            let trimmed = change.trimmed
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            let instruction = parts[0].uppercased()
            let rest = parts.count > 1 ? String(parts[1]).trimmed : ""
            switch instruction {
            case "CMD": d.Cmd = commandForm(rest)
            case "ENTRYPOINT": d.Entrypoint = commandForm(rest)
            case "WORKDIR": d.WorkingDir = rest
            case "USER": d.User = rest
            case "STOPSIGNAL": d.StopSignal = rest
            case "ENV":
                var env = d.Env ?? []
                for (key, value) in try keyValues(rest, instruction: "ENV") {
                    env.removeAll { $0.hasPrefix(key + "=") }
                    env.append("\(key)=\(value)")
                }
                d.Env = env
            case "LABEL":
                var labels = d.Labels ?? [:]
                for (key, value) in try keyValues(rest, instruction: "LABEL") { labels[key] = value }
                d.Labels = labels
            case "EXPOSE":
                var ports = d.ExposedPorts ?? [:]
                for port in rest.split(separator: " ") {
                    ports[port.contains("/") ? String(port) : "\(port)/tcp"] = EmptyObject()
                }
                d.ExposedPorts = ports
            case "VOLUME":
                var volumes = d.Volumes ?? [:]
                for path in commandForm(rest) where !path.isEmpty && !(path == "/bin/sh" || path == "-c") {
                    volumes[path] = EmptyObject()
                }
                d.Volumes = volumes
            case "HEALTHCHECK": d.Healthcheck = try healthcheck(rest)
            default:
                throw EngineError.invalidParameter("\(instruction) is not a valid change command")
            }
        }
        return d
    }

    /// `HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD …`
    /// or `HEALTHCHECK NONE`, as the Dockerfile reference defines it.
    static func healthcheck(_ text: String) throws -> HealthcheckConfig {
        var config = HealthcheckConfig()
        var rest = Substring(text)
        while rest.hasPrefix("--") {
            let flag = rest.prefix { $0 != " " }
            rest = rest.dropFirst(flag.count).drop { $0 == " " }
            let parts = flag.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw EngineError.invalidParameter("HEALTHCHECK: flag \(flag) needs a value") }
            if parts[0] == "retries" {
                guard let retries = Int(parts[1]), retries >= 0 else { throw EngineError.invalidParameter("HEALTHCHECK: invalid retries \(parts[1])") }
                config.Retries = retries
                continue
            }
            guard let duration = GoDuration.nanoseconds(parts[1]), duration >= 0 else {
                throw EngineError.invalidParameter("HEALTHCHECK: invalid duration \(parts[1]) for --\(parts[0])")
            }
            switch parts[0] {
            case "interval": config.Interval = duration
            case "timeout": config.Timeout = duration
            case "start-period": config.StartPeriod = duration
            case "start-interval": config.StartInterval = duration
            default: throw EngineError.invalidParameter("HEALTHCHECK: unknown flag --\(parts[0])")
            }
        }
        let words = rest.split(separator: " ", maxSplits: 1).map(String.init)
        switch words.first?.uppercased() {
        case "NONE": config.Test = ["NONE"]
        case "CMD":
            guard words.count == 2 else { throw EngineError.invalidParameter("HEALTHCHECK CMD needs a command") }
            let command = words[1].trimmed
            if command.hasPrefix("["), let array = try? JSONDecoder().decode([String].self, from: Data(command.utf8)) {
                config.Test = ["CMD"] + array
            } else {
                config.Test = ["CMD-SHELL", command]
            }
        default:
            throw EngineError.invalidParameter("HEALTHCHECK needs CMD or NONE")
        }
        return config
    }

    /// JSON array form (`["a","b"]`) as is; shell form wrapped in `/bin/sh -c`.
    static func commandForm(_ text: String) -> [String] {
        if text.hasPrefix("["), let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) {
            return array
        }
        return ["/bin/sh", "-c", text]
    }

    /// `K=V K2="v 2"` or the legacy `K V` form.
    static func keyValues(_ text: String, instruction: String) throws -> [(String, String)] {
        guard let first = text.split(separator: " ").first else {
            throw EngineError.invalidParameter("\(instruction) requires at least one argument")
        }
        if !first.contains("=") {
            let parts = text.split(separator: " ", maxSplits: 1)
            return [(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")]
        }
        var result: [(String, String)] = []
        var current = ""
        var quote: Character?
        var tokens: [String] = []
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
            } else if ch == " " {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        for token in tokens {
            guard let eq = token.firstIndex(of: "=") else {
                throw EngineError.invalidParameter("\(instruction) names \"\(token)\" without a value (expected KEY=VALUE)")
            }
            result.append((String(token[..<eq]), String(token[token.index(after: eq)...])))
        }
        return result
    }
}
