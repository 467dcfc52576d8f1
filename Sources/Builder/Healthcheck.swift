/// A HEALTHCHECK instruction in the shape of an image configuration's `Healthcheck`.
public struct Healthcheck: Sendable, Equatable {
    /// `["NONE"]`, `["CMD", executable, arguments…]` (exec form) or `["CMD-SHELL", command]`.
    public var test: [String]
    /// `--interval`; zero when not given (the image keeps the default).
    public var interval: Duration
    /// `--timeout`; zero when not given.
    public var timeout: Duration
    /// `--start-period`; zero when not given.
    public var startPeriod: Duration
    /// `--start-interval`; zero when not given.
    public var startInterval: Duration
    /// `--retries`; zero when not given.
    public var retries: Int

    /// A health check with these parts.
    public init(test: [String], interval: Duration = .zero, timeout: Duration = .zero, startPeriod: Duration = .zero,
                startInterval: Duration = .zero, retries: Int = 0) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

extension Instruction {
    /// HEALTHCHECK: `NONE`, or `[flags] CMD command` in the exec or shell form, with docker's
    /// checks: durations are Go durations ("30s", "1m30s") of at least 1ms when not zero, and
    /// retries a non-negative integer.
    /// Throws `DockerfileError.syntax` in docker's words otherwise.
    public func healthcheck() throws -> Healthcheck {
        try located { try HealthcheckSyntax.healthcheck(of: self) }
    }
}

/// The reading of HEALTHCHECK (buildkit's `parseHealthConfig` and `parseHealthcheck`).
enum HealthcheckSyntax {
    /// The type word (`CMD`, `NONE`) and the text after it.
    static func split(_ arguments: String) -> (type: String, command: String) {
        let scalars = arguments.unicodeScalars
        guard let end = scalars.firstIndex(where: { $0.isGoSpace }) else { return (arguments, "") }
        let commandStart = scalars[end...].firstIndex(where: { !$0.isGoSpace }) ?? scalars.endIndex
        return (String(scalars[..<end]), String(scalars[commandStart...]))
    }

    static func healthcheck(of instruction: Instruction) throws -> Healthcheck {
        let (type, command) = split(instruction.arguments)
        guard !type.isEmpty else { throw ParseProblem("HEALTHCHECK requires at least one argument") }
        let kind = type.uppercased()
        if kind == "NONE" {
            guard command.isEmpty else { throw ParseProblem("HEALTHCHECK NONE takes no arguments") }
            return Healthcheck(test: ["NONE"])
        }
        try BuilderFlags.check(instruction.flags, allowed: Keyword.healthcheck.flagKinds)
        guard kind == "CMD" else { throw ParseProblem("Unknown type \(goQuoted(kind)) in HEALTHCHECK (try CMD)") }
        var check: Healthcheck
        if let words = try Instruction.jsonForm(command) {
            guard !words.isEmpty else { throw ParseProblem("Missing command after HEALTHCHECK CMD") }
            check = Healthcheck(test: ["CMD"] + words)
        } else {
            guard !command.isEmpty else { throw ParseProblem("Missing command after HEALTHCHECK CMD") }
            check = Healthcheck(test: ["CMD-SHELL", command])
        }
        check.interval = try interval(instruction.flag("interval"), named: "interval")
        check.timeout = try interval(instruction.flag("timeout"), named: "timeout")
        check.startPeriod = try interval(instruction.flag("start-period"), named: "start-period")
        check.startInterval = try interval(instruction.flag("start-interval"), named: "start-interval")
        if let retries = instruction.flag("retries"), !retries.isEmpty {
            guard let count = Int32(retries) else {
                let reason = retries.unicodeScalars.dropFirst(retries.firstScalar == "-" || retries.firstScalar == "+" ? 1 : 0)
                    .allSatisfy(\.isASCIIDigit) ? "value out of range" : "invalid syntax"
                throw ParseProblem("strconv.ParseInt: parsing \(goQuoted(retries)): \(reason)")
            }
            guard count >= 0 else { throw ParseProblem("--retries cannot be negative (\(count))") }
            check.retries = Int(count)
        }
        return check
    }

    /// A duration flag's value: zero when absent, empty or zero; at least 1ms otherwise.
    private static func interval(_ value: String?, named name: String) throws -> Duration {
        guard let value, !value.isEmpty else { return .zero }
        let duration = try GoDuration.parse(value)
        if duration == .zero { return .zero }
        guard duration >= .milliseconds(1) else { throw ParseProblem("Interval \(goQuoted(name)) cannot be less than 1ms") }
        return duration
    }
}
