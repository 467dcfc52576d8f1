import BerthSystem
import OCI

/// A container's health as its health check found it (docker's `State.Health`).
public struct HealthState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case starting, healthy, unhealthy
    }

    public var status: Status
    /// Consecutive failed probes counted (those in the start period are not).
    public var failingStreak: Int
    /// The last five probes, oldest first.
    public var log: [HealthProbe]

    /// How many probes the log keeps (docker's `maxLogEntries`).
    public static let logLength = 5

    public static let starting = HealthState(status: .starting, failingStreak: 0, log: [])

    /// The state after `probe`: a success makes the container healthy; a failure outside the
    /// start period adds to the streak, and `retries` failures in a row make it unhealthy.
    public func recording(_ probe: HealthProbe, retries: Int, countsFailures: Bool) -> HealthState {
        var next = self
        next.log = Array((log + [probe]).suffix(Self.logLength))
        if probe.exitCode == 0 {
            next.status = .healthy
            next.failingStreak = 0
        } else if countsFailures {
            next.failingStreak += 1
            if next.failingStreak >= retries { next.status = .unhealthy }
        }
        return next
    }
}

/// One run of a health check.
public struct HealthProbe: Codable, Sendable, Equatable {
    public var start: Timestamp
    public var end: Timestamp
    /// The check's exit status: 0 healthy, anything else a failure (-1: it did not finish in
    /// time or could not run).
    public var exitCode: Int32
    /// The first 4096 bytes of its output (stdout and stderr).
    public var output: String
}

/// A health check with docker's defaults filled in (interval and timeout 30 s, start interval
/// 5 s, 3 retries); nil when the container has none (no test, or `NONE`).
public struct HealthSchedule: Sendable, Equatable {
    public var command: [String]
    public var intervalNanoseconds: UInt64
    public var timeoutNanoseconds: UInt64
    public var startPeriodNanoseconds: UInt64
    public var startIntervalNanoseconds: UInt64
    public var retries: Int

    public init?(_ config: HealthcheckConfig?) {
        guard let test = config?.Test, let kind = test.first, kind != "NONE" else { return nil }
        switch kind {
        case "CMD" where test.count > 1: command = Array(test.dropFirst())
        case "CMD-SHELL" where test.count > 1: command = ["/bin/sh", "-c", test.dropFirst().joined(separator: " ")]
        default: return nil
        }
        func duration(_ value: Int64?, _ fallback: UInt64) -> UInt64 { (value ?? 0) > 0 ? UInt64(value!) : fallback }
        intervalNanoseconds = duration(config?.Interval, 30_000_000_000)
        timeoutNanoseconds = duration(config?.Timeout, 30_000_000_000)
        startPeriodNanoseconds = duration(config?.StartPeriod, 0)
        startIntervalNanoseconds = duration(config?.StartInterval, 5_000_000_000)
        retries = (config?.Retries ?? 0) > 0 ? config!.Retries! : 3
    }

    /// A container's check: its own fields where set, the image's otherwise (docker's merge).
    public static func merge(_ own: HealthcheckConfig?, image: HealthcheckConfig?) -> HealthcheckConfig? {
        guard var merged = own else { return image }
        guard let image else { return merged }
        if (merged.Test ?? []).isEmpty { merged.Test = image.Test }
        if (merged.Interval ?? 0) == 0 { merged.Interval = image.Interval }
        if (merged.Timeout ?? 0) == 0 { merged.Timeout = image.Timeout }
        if (merged.StartPeriod ?? 0) == 0 { merged.StartPeriod = image.StartPeriod }
        if (merged.StartInterval ?? 0) == 0 { merged.StartInterval = image.StartInterval }
        if (merged.Retries ?? 0) == 0 { merged.Retries = image.Retries }
        return merged
    }

    /// docker's checks of a container's health-check settings.
    public static func validate(_ config: HealthcheckConfig?) throws {
        guard let config else { return }
        for (name, value) in [("Interval", config.Interval), ("Timeout", config.Timeout), ("StartPeriod", config.StartPeriod), ("StartInterval", config.StartInterval)] {
            if let value, value != 0, value < 1_000_000 {
                throw EngineError.invalidParameter("\(name) in Healthcheck cannot be less than 1ms")
            }
        }
        if let retries = config.Retries, retries < 0 {
            throw EngineError.invalidParameter("Retries in Healthcheck cannot be negative")
        }
    }
}
