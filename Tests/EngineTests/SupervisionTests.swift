#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import OCI
import Testing
@testable import Engine

@Suite struct RestartPolicyTests {
    @Test func policiesAreReadAndBadOnesRefused() throws {
        #expect(try RestartPolicyKind(name: nil, maximumRetryCount: nil) == .no)
        let encoded = try JSONEncoder().encode(RestartPolicyKind.onFailure(maximumRetries: 2))
        #expect(try JSONDecoder().decode(RestartPolicyKind.self, from: encoded) == .onFailure(maximumRetries: 2))
        #expect(try RestartPolicyKind(name: "on-failure", maximumRetryCount: 3) == .onFailure(maximumRetries: 3))
        #expect(try RestartPolicyKind(name: "unless-stopped", maximumRetryCount: 0) == .unlessStopped)
        #expect(throws: EngineError.self) { try RestartPolicyKind(name: "always", maximumRetryCount: 1) }
        #expect(throws: EngineError.self) { try RestartPolicyKind(name: "on-failure", maximumRetryCount: -1) }
        #expect(throws: EngineError.self) { try RestartPolicyKind(name: "sometimes", maximumRetryCount: nil) }
    }

    @Test func backoffDoublesUpToAMinuteAndResetsAfterALongRun() {
        var backoff = RestartBackoff()
        var delays: [UInt64] = []
        for _ in 0..<11 {
            delays.append(backoff.next(policy: .always, exitCode: 0, manuallyStopped: false, restartCount: 0, ranNanoseconds: 1_000_000) ?? 0)
        }
        #expect(Array(delays.prefix(4)) == [100_000_000, 200_000_000, 400_000_000, 800_000_000])
        #expect(delays.last == RestartBackoff.maximumNanoseconds)
        #expect(backoff.next(policy: .always, exitCode: 0, manuallyStopped: false, restartCount: 0, ranNanoseconds: 10_000_000_000) == 100_000_000)
    }

    @Test func whoIsRestarted() {
        var b = RestartBackoff()
        #expect(b.next(policy: .no, exitCode: 1, manuallyStopped: false, restartCount: 0, ranNanoseconds: 0) == nil)
        #expect(b.next(policy: .always, exitCode: 1, manuallyStopped: true, restartCount: 0, ranNanoseconds: 0) == nil)
        #expect(b.next(policy: .onFailure(maximumRetries: 0), exitCode: 0, manuallyStopped: false, restartCount: 0, ranNanoseconds: 0) == nil)
        #expect(b.next(policy: .onFailure(maximumRetries: 2), exitCode: 1, manuallyStopped: false, restartCount: 2, ranNanoseconds: 0) == nil)
        #expect(b.next(policy: .onFailure(maximumRetries: 2), exitCode: 1, manuallyStopped: false, restartCount: 1, ranNanoseconds: 0) != nil)
        #expect(RestartBackoff.startsWithDaemon(policy: .always, exitCode: 0, manuallyStopped: true, restartCount: 0))
        #expect(!RestartBackoff.startsWithDaemon(policy: .unlessStopped, exitCode: 0, manuallyStopped: true, restartCount: 0))
        #expect(!RestartBackoff.startsWithDaemon(policy: .onFailure(maximumRetries: 0), exitCode: 0, manuallyStopped: false, restartCount: 0))
    }
}

@Suite struct EventBusTests {
    @Test func pastEventsFromSinceThenLiveOnesInOrder() async {
        let bus = EventBus(capacity: 3)
        for i in 0..<5 {
            bus.publish(EngineEvent(type: .volume, action: "create", actorID: "v\(i)", time: Timestamp(seconds: Int64(100 + i))))
        }
        let subscription = bus.subscribe(since: Timestamp(seconds: 103))
        #expect(subscription.past.map(\.actorID) == ["v3", "v4"])
        bus.publish(EngineEvent(type: .volume, action: "destroy", actorID: "v5"))
        bus.publish(EngineEvent(type: .container, action: "exec_start: sh -c true", actorID: "c"))
        var iterator = subscription.events.makeAsyncIterator()
        #expect(await iterator.next()?.actorID == "v5")
        let exec = await iterator.next()
        #expect(exec?.baseAction == "exec_start")
        subscription.cancel()
        #expect(await iterator.next() == nil)
        #expect(bus.subscribe(since: .zero).past.count == 3)
    }
}

@Suite struct HealthTests {
    private func probe(_ code: Int32) -> HealthProbe {
        HealthProbe(start: .now(), end: .now(), exitCode: code, output: "")
    }

    @Test func successFailuresAndTheStartPeriod() {
        var h = HealthState.starting
        h = h.recording(probe(1), retries: 2, countsFailures: false)
        #expect(h.status == .starting && h.failingStreak == 0)
        h = h.recording(probe(0), retries: 2, countsFailures: true)
        #expect(h.status == .healthy)
        h = h.recording(probe(1), retries: 2, countsFailures: true)
        #expect(h.status == .healthy && h.failingStreak == 1)
        h = h.recording(probe(-1), retries: 2, countsFailures: true)
        #expect(h.status == .unhealthy && h.failingStreak == 2)
        for _ in 0..<4 { h = h.recording(probe(1), retries: 2, countsFailures: true) }
        #expect(h.log.count == HealthState.logLength)
    }

    @Test func scheduleDefaultsMergeAndValidation() throws {
        #expect(HealthSchedule(nil) == nil)
        #expect(HealthSchedule(HealthcheckConfig(Test: ["NONE"])) == nil)
        let shell = try #require(HealthSchedule(HealthcheckConfig(Test: ["CMD-SHELL", "curl -f x"])))
        #expect(shell.command == ["/bin/sh", "-c", "curl -f x"])
        #expect(shell.intervalNanoseconds == 30_000_000_000 && shell.retries == 3 && shell.startIntervalNanoseconds == 5_000_000_000)
        let merged = HealthSchedule.merge(HealthcheckConfig(Interval: 1_000_000_000), image: HealthcheckConfig(Test: ["CMD", "true"], Interval: 5, Retries: 7))
        #expect(merged == HealthcheckConfig(Test: ["CMD", "true"], Interval: 1_000_000_000, Retries: 7))
        #expect(throws: EngineError.self) { try HealthSchedule.validate(HealthcheckConfig(Interval: 999)) }
        #expect(throws: EngineError.self) { try HealthSchedule.validate(HealthcheckConfig(Retries: -1)) }
    }

    @Test func healthcheckChange() throws {
        let d = try ConfigChanges.apply(["HEALTHCHECK --interval=1m30s --retries=4 CMD [\"/bin/check\", \"-q\"]"], to: ContainerDefaults())
        #expect(d.Healthcheck == HealthcheckConfig(Test: ["CMD", "/bin/check", "-q"], Interval: 90_000_000_000, Retries: 4))
        #expect(try ConfigChanges.apply(["HEALTHCHECK NONE"], to: ContainerDefaults()).Healthcheck?.Test == ["NONE"])
        #expect(throws: EngineError.self) { try ConfigChanges.apply(["HEALTHCHECK --interval=soon CMD true"], to: ContainerDefaults()) }
        #expect(throws: EngineError.self) { try ConfigChanges.apply(["HEALTHCHECK"], to: ContainerDefaults()) }
    }

    @Test func goDurations() {
        #expect(GoDuration.nanoseconds("1m30s") == 90_000_000_000)
        #expect(GoDuration.nanoseconds("1.5s") == 1_500_000_000)
        #expect(GoDuration.nanoseconds("300ms") == 300_000_000)
        #expect(GoDuration.nanoseconds("0") == 0)
        #expect(GoDuration.nanoseconds("5") == nil && GoDuration.nanoseconds("s") == nil && GoDuration.nanoseconds("1x") == nil)
        #expect(GoDuration.format(nanoseconds: 300_000_000) == "300ms")
        #expect(GoDuration.format(nanoseconds: 90_000_000_000) == "1m30s")
        #expect(GoDuration.format(nanoseconds: 2_000_000_000) == "2s")
    }
}
