import BerthSystem
import Testing
@testable import Engine

@Suite struct RestartPolicyTests {
    @Test func policiesAreReadAndBadOnesRefused() throws {
        #expect(try RestartPolicyKind(nil) == .no)
        #expect(try RestartPolicyKind(RestartPolicy(Name: "on-failure", MaximumRetryCount: 3)) == .onFailure(maximumRetries: 3))
        #expect(try RestartPolicyKind(RestartPolicy(Name: "unless-stopped", MaximumRetryCount: 0)) == .unlessStopped)
        #expect(throws: EngineError.self) { try RestartPolicyKind(RestartPolicy(Name: "always", MaximumRetryCount: 1)) }
        #expect(throws: EngineError.self) { try RestartPolicyKind(RestartPolicy(Name: "on-failure", MaximumRetryCount: -1)) }
        #expect(throws: EngineError.self) { try RestartPolicyKind(RestartPolicy(Name: "sometimes", MaximumRetryCount: nil)) }
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
