#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentStore
import Glibc
import LayerArchive
import OCI
import Snapshots
import Synchronization
import Testing
@testable import Engine

/// Tasks that run nothing: monitors get made-up pids, runtime calls are recorded, and a
/// test ends a monitor by writing its exit record and firing its exit event.
final class FakeTasks: ContainerTasks {
    struct State {
        var monitors: [(arguments: [String], directory: String, pid: Int32)] = []
        var runtimeCalls: [[String]] = []
        var exits: [Int32: @Sendable () -> Void] = [:]
        var nextPID: Int32 = 4_190_000
    }

    let state = Mutex(State())

    func startMonitor(arguments: [String], directory: String) async throws -> MonitorLauncher.Started {
        let pid = state.withLock { s -> Int32 in
            s.nextPID += 2
            s.monitors.append((arguments, directory, s.nextPID))
            return s.nextPID
        }
        return MonitorLauncher.Started(monitorPID: pid, processPID: pid + 1)
    }

    func watch(pid: Int32, onExit: @escaping @Sendable () -> Void) {
        state.withLock { $0.exits[pid] = onExit }
    }

    func runRuntime(_ runtime: String, _ arguments: [String]) async throws -> ProcessRunner.Result {
        state.withLock { $0.runtimeCalls.append(arguments) }
        return ProcessRunner.Result(status: 0, stdout: [], stderr: [])
    }

    func runRuntime(_ runtime: String, _ arguments: [String], timeoutNanoseconds: UInt64, outputLimit: Int) async throws -> (status: Int32, output: [UInt8])? {
        state.withLock { $0.runtimeCalls.append(arguments) }
        return (0, Array("ok\n".utf8))
    }

    var monitorCount: Int { state.withLock { $0.monitors.count } }
    var lastMonitor: (arguments: [String], directory: String, pid: Int32)? { state.withLock { $0.monitors.last } }
    var runtimeCalls: [[String]] { state.withLock { $0.runtimeCalls } }

    /// Ends the last monitor started: its process exited with `code`.
    func endLast(exitCode code: Int32) throws {
        guard let monitor = lastMonitor else { return }
        try end(monitor, exitCode: code)
    }

    /// Ends every monitor still watched (a killed container's, at the end of a test).
    func endAll() throws {
        for monitor in state.withLock({ s in s.monitors.filter { s.exits[$0.pid] != nil } }) { try end(monitor, exitCode: 137) }
    }

    private func end(_ monitor: (arguments: [String], directory: String, pid: Int32), exitCode code: Int32) throws {
        let record = "{\"exitCode\":\(code),\"finishedAt\":\"\(Timestamp.now().rfc3339Nano)\"}"
        try FileSystem.writeAtomically(monitor.directory + "/exit.json", bytes: Array(record.utf8), durable: false)
        let onExit = state.withLock { $0.exits.removeValue(forKey: monitor.pid) }
        onExit?()
    }
}

/// A `ContainerService` over a temporary root with a one-layer image `test:1`, acting through
/// `FakeTasks`. Needs root (the container's root file system is a real overlay mount).
struct ServiceFixture {
    let base: String
    let service: ContainerService
    let volumes: VolumeService
    let events: EventBus
    let tasks = FakeTasks()

    init() async throws {
        base = "/tmp/berth-service-test-\(UInt64.random(in: 0...UInt64.max))"
        let configuration = EngineConfiguration(root: base + "/root", execRoot: base + "/run", runtimes: ["berth": "/bin/false"],
                                                defaultRuntime: "berth", monitorPath: "/bin/false")
        try configuration.prepareDirectories()
        try FileSystem.makeDirectories(base + "/image/etc", mode: 0o755)
        try FileSystem.writeAtomically(base + "/image/etc/passwd", bytes: Array("root:x:0:0:root:/root:/bin/sh\n".utf8))
        _ = try DiffWriter().writeArchive(of: base + "/image", to: base + "/image.tar")
        let content = try ContentStore(root: configuration.contentRoot)
        let snapshots = try OverlaySnapshotter(root: configuration.snapshotsRoot)
        let images = try ImageService(configuration: configuration, content: content, snapshots: snapshots)
        _ = try await images.importRootFS(tarPath: base + "/image.tar", reference: "test:1", changes: ["CMD [\"sh\"]"], message: nil)
        events = EventBus()
        volumes = try VolumeService(root: configuration.volumesRoot, trash: configuration.trashRoot, events: events)
        service = ContainerService(configuration: configuration, images: images, snapshots: snapshots, volumes: volumes, events: events, tasks: tasks)
    }

    func create(_ name: String, _ change: (inout ContainerSpec) -> Void = { _ in }) async throws -> String {
        var spec = ContainerSpec()
        spec.image = "test:1"
        change(&spec)
        return try await service.create(name: name, spec: spec)
    }

    /// Polls `condition` for up to two seconds.
    func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<200 {
            if await condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return await condition()
    }

    func cleanup() async {
        try? tasks.endAll()
        _ = await eventually { await service.list(all: false).isEmpty }
        for record in await service.list(all: true) { try? await service.remove(record.id, force: true) }
        for id in FileSystem.listDirectory(base + "/root/containers") { umount2(base + "/root/containers/\(id)/rootfs", Int32(MNT_DETACH)) }
        try? FileSystem.removeTree(base)
    }
}

@Suite(.serialized) struct ContainerServiceTests {
    @Test func startLaunchesAMonitorAndItsExitIsAnEvent() async throws {
        let f = try await ServiceFixture()
        let subscription = f.events.subscribe()
        let id = try await f.create("first") { $0.log = LogSpec(driver: "json-file", options: ["max-size": "1m", "max-file": "2"]) }
        try await f.service.start(id)
        let monitor = try #require(f.tasks.lastMonitor)
        #expect(monitor.arguments.first == "container" && monitor.arguments.contains("--bundle"))
        #expect(monitor.arguments.contains("--log-max-size") && monitor.arguments.contains("1048576"))
        var record = try await f.service.resolve(id)
        #expect(record.state.isRunning && record.state.monitorPID == monitor.pid && record.state.pid == monitor.pid + 1)
        try f.tasks.endLast(exitCode: 3)
        #expect(await f.eventually { (try? await f.service.resolve(id).state.status) == .exited })
        record = try await f.service.resolve(id)
        #expect(record.state.exitCode == 3 && record.state.pid == 0)
        var seen: [String] = []
        var iterator = subscription.events.makeAsyncIterator()
        while seen.count < 3, let event = await iterator.next() { seen.append(event.action) }
        #expect(seen == ["create", "start", "die"])
        subscription.cancel()
        await f.cleanup()
    }

    @Test func signalsPauseAndUpdateGoThroughTheRuntime() async throws {
        let f = try await ServiceFixture()
        let id = try await f.create("second")
        try await f.service.start(id)
        try await f.service.kill(id, signal: "HUP")
        try await f.service.pause(id)
        #expect(try await f.service.resolve(id).state.isPaused)
        try await f.service.unpause(id)
        var change = ResourceSpec()
        change.memory = 64 << 20
        try await f.service.update(id, limits: change, restartPolicy: nil)
        let calls = f.tasks.runtimeCalls
        #expect(calls.contains(["kill", id, "1"]))
        #expect(calls.contains(["pause", id]) && calls.contains(["resume", id]))
        #expect(calls.contains { $0.first == "update" && $0.last == id && $0.contains("--resources") })
        let record = try await f.service.resolve(id)
        #expect(record.manuallyStopped == true && record.spec.resources.memory == 64 << 20)
        await f.cleanup()
    }

    @Test func theSupervisorRestartsByPolicyAndStopsAtTheLimit() async throws {
        let f = try await ServiceFixture()
        let supervisor = Supervisor(containers: f.service)
        await supervisor.start()
        let id = try await f.create("third") { $0.restartPolicy = .onFailure(maximumRetries: 1) }
        try await f.service.start(id)
        try f.tasks.endLast(exitCode: 1)
        #expect(await f.eventually { f.tasks.monitorCount == 2 })
        #expect(await f.eventually { (try? await f.service.resolve(id).state.isRunning) == true })
        #expect(try await f.service.resolve(id).restartCount == 1)
        try f.tasks.endLast(exitCode: 1)
        #expect(await f.eventually { (try? await f.service.resolve(id).state.status) == .exited })
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(f.tasks.monitorCount == 2)
        await f.cleanup()
    }

    @Test func volumesAreUsedFromCreateAndReleasedOnRemove() async throws {
        let f = try await ServiceFixture()
        let id = try await f.create("fourth") { $0.storage.binds = ["data-vol:/data"]; $0.storage.volumes = ["/anon"] }
        let record = try await f.service.resolve(id)
        #expect(record.mounts.map(\.destination) == ["/data", "/anon"] || record.mounts.map(\.destination) == ["/anon", "/data"])
        #expect(await f.volumes.users(of: "data-vol") == [id])
        await #expect(throws: EngineError.self) { try await f.volumes.remove("data-vol", force: false) }
        try await f.service.remove(id, force: false, volumes: true)
        #expect(await f.volumes.users(of: "data-vol").isEmpty)
        #expect(await f.volumes.list().map(\.name) == ["data-vol"])
        await #expect(throws: EngineError.noSuchContainer(id)) { try await f.service.resolve(id) }
        await f.cleanup()
    }
}
