#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Builder
import OCI

/// The Dockerfile instructions that change only an image's configuration (ENV, LABEL, EXPOSE,
/// VOLUME, USER, WORKDIR, STOPSIGNAL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD), applied as docker
/// applies them — in a build's steps and in `commit`/`import --change` alike.
struct ConfigInstructions {
    let expander: WordExpander
    /// SHELL, for the shell forms of CMD and ENTRYPOINT.
    var shell = ["/bin/sh", "-c"]
    /// Whether CMD was set since the base image (an ENTRYPOINT then keeps it; else resets it).
    var cmdSet = false

    init(expander: WordExpander = WordExpander()) {
        self.expander = expander
    }

    /// Applies `instruction` to `defaults`, expanding variables with `env`; answers the text
    /// docker's history records for it (`ENV A=1`), nil when the instruction is not one of these.
    mutating func apply(_ instruction: Instruction, to defaults: inout ContainerDefaults, env: [String: String]) throws -> String? {
        switch instruction.keyword {
        case "ENV":
            let pairs = try instruction.keyValuePairs(env: env, expander: expander)
            var entries = defaults.Env ?? []
            for (key, value) in pairs {
                if let index = entries.firstIndex(where: { $0.hasPrefix(key + "=") || $0 == key }) {
                    entries[index] = "\(key)=\(value)"
                } else {
                    entries.append("\(key)=\(value)")
                }
            }
            defaults.Env = entries
            return "ENV " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case "LABEL":
            let pairs = try instruction.keyValuePairs(env: env, expander: expander)
            var labels = defaults.Labels ?? [:]
            for (key, value) in pairs { labels[key] = value }
            defaults.Labels = labels
            return "LABEL " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case "EXPOSE":
            var ports = defaults.ExposedPorts ?? [:]
            let words = try instruction.argumentWords(env: env, expander: expander)
            for word in words {
                for port in try Self.exposedPorts(word) { ports[port] = EmptyObject() }
            }
            defaults.ExposedPorts = ports
            // docker's classic text: the words as written, sorted.
            return "EXPOSE " + words.sorted().joined(separator: " ")
        case "VOLUME":
            let paths = try instruction.argumentWords(env: env, expander: expander)
            guard !paths.isEmpty, !paths.contains(where: { $0.trimmed.isEmpty }) else {
                throw BuildError.dockerfile("VOLUME specified can not be an empty string")
            }
            var volumes = defaults.Volumes ?? [:]
            for path in paths { volumes[path] = EmptyObject() }
            defaults.Volumes = volumes
            return "VOLUME [" + paths.joined(separator: " ") + "]"
        case "USER":
            let user = try expander.expand(instruction.arguments, env: env)
            defaults.User = user
            return "USER " + user
        case "WORKDIR":
            let requested = try expander.expand(instruction.arguments, env: env)
            let current = defaults.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
            let path = Paths.clean(requested.hasPrefix("/") ? requested : current + "/" + requested)
            defaults.WorkingDir = path
            return "WORKDIR " + path
        case "STOPSIGNAL":
            let signal = try expander.expand(instruction.arguments, env: env)
            defaults.StopSignal = signal
            return "STOPSIGNAL " + signal
        case "CMD":
            let command = commandForm(instruction)
            defaults.Cmd = command
            cmdSet = true
            return "CMD " + GoText.quoted(command)
        case "ENTRYPOINT":
            let command = commandForm(instruction)
            defaults.Entrypoint = command
            // An ENTRYPOINT resets the CMD a base image set (Dockerfile reference).
            if !cmdSet { defaults.Cmd = nil }
            return "ENTRYPOINT " + GoText.quoted(command)
        case "HEALTHCHECK":
            let parsed = try instruction.healthcheck()
            defaults.Healthcheck = HealthcheckConfig(parsed)
            return "HEALTHCHECK " + GoText.healthcheck(parsed)
        case "ONBUILD":
            defaults.OnBuild = (defaults.OnBuild ?? []) + [instruction.triggerText]
            return "ONBUILD " + instruction.triggerText
        default:
            return nil
        }
    }

    /// A CMD/ENTRYPOINT value: the exec form as written, the shell form through SHELL.
    func commandForm(_ instruction: Instruction) -> [String] {
        switch instruction.command {
        case .exec(let words): return words
        case .shell(let text): return shell + [text]
        }
    }

    /// docker's `EXPOSE` words: `80`, `80/udp`, `8000-8002/tcp` (each port of a range).
    static func exposedPorts(_ word: String) throws -> [String] {
        let parts = word.split(separator: "/", maxSplits: 1).map(String.init)
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw BuildError.dockerfile("invalid proto: \(proto)") }
        let range = parts[0].split(separator: "-", maxSplits: 1).map(String.init)
        guard let first = range.first, let low = UInt16(first), let high = range.count > 1 ? UInt16(range[1]) : low, low <= high else {
            throw BuildError.dockerfile("invalid containerPort: \(parts[0])")
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    static func json(_ words: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(words), as: UTF8.self)) ?? ""
    }
}

extension HealthcheckConfig {
    /// The image configuration's form of a parsed HEALTHCHECK (durations in nanoseconds; zero:
    /// not given, the image's or the default applies).
    init(_ health: Healthcheck) {
        func nanoseconds(_ duration: Duration) -> Int64? {
            let (seconds, attoseconds) = duration.components
            let value = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
            return value == 0 ? nil : value
        }
        self.init(Test: health.test, Interval: nanoseconds(health.interval), Timeout: nanoseconds(health.timeout),
                  StartPeriod: nanoseconds(health.startPeriod), StartInterval: nanoseconds(health.startInterval),
                  Retries: health.retries == 0 ? nil : health.retries)
    }
}

/// How docker's classic builder prints values into history texts (Go's `%q` and `%v`).
enum GoText {
    /// `%q` of a `[]string`: `["a" "b c"]`.
    static func quoted(_ words: [String]) -> String {
        "[" + words.map(quote).joined(separator: " ") + "]"
    }

    /// `%v` of a `[]string`: `[a b c]`.
    static func plain(_ words: [String]) -> String {
        "[" + words.joined(separator: " ") + "]"
    }

    /// Go's `strconv.Quote`.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += "\\x" + hex(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `%q` of docker's `HealthConfig` struct (20.10: test, interval, timeout, start period,
    /// retries as a rune): `&{["CMD" "x"] "30s" "5s" "0s" '\x03'}`.
    static func healthcheck(_ health: Healthcheck) -> String {
        func duration(_ value: Duration) -> String {
            let (seconds, attoseconds) = value.components
            let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
            return quote(GoDuration.format(nanoseconds: UInt64(max(0, nanoseconds))))
        }
        return "&{\(quoted(health.test)) \(duration(health.interval)) \(duration(health.timeout)) \(duration(health.startPeriod)) \(rune(health.retries))}"
    }

    /// `%q` of an integer: a quoted rune (`'\x00'`, `'A'`).
    static func rune(_ value: Int) -> String {
        guard value >= 0x20 && value < 0x7f, let scalar = Unicode.Scalar(value) else {
            return value < 0x80 ? "'\\x" + hex(UInt32(max(0, value))) + "'" : "'\\u" + String(value, radix: 16) + "'"
        }
        if scalar == "'" { return "'\\''" }
        if scalar == "\\" { return "'\\\\'" }
        return "'" + String(scalar) + "'"
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
