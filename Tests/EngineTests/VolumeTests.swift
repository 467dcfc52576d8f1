import BerthSystem
import Glibc
import Testing
@testable import Engine

@Suite struct MountRequestTests {
    @Test func namedVolumeHostPathAndAnonymous() throws {
        let named = try MountRequest.bind("data:/srv/data:ro,nocopy")
        #expect(named.kind == .volume && named.source == "data" && named.destination == "/srv/data")
        #expect(named.readOnly && !named.copyData && named.mode == "ro,nocopy" && named.propagation.isEmpty)
        let host = try MountRequest.bind("/var/log:/logs/:rshared")
        #expect(host.kind == .bind && host.source == "/var/log" && host.destination == "/logs")
        #expect(host.propagation == "rshared" && !host.readOnly && host.createsBindSource && !host.copyData)
        let anonymous = try MountRequest.bind("/cache")
        #expect(anonymous.kind == .volume && anonymous.source == nil && anonymous.destination == "/cache" && anonymous.mode == "z")
    }

    @Test(arguments: ["", "a:b:c:d", "data:", ":/x", "data:rel", "data:/", "/h:/..", "data:/x:ro,rw", "data:/x:rshared", "/h:/x:nocopy"])
    func malformedSpecsAreRefused(_ spec: String) {
        #expect(throws: EngineError.self) { try MountRequest.bind(spec) }
    }

    @Test func unknownModeIsNamed() {
        #expect(throws: EngineError.invalidParameter("invalid mode: fast")) { try MountRequest.bind("data:/x:fast") }
    }
}

@Suite struct VolumeServiceTests {
    private func withService(_ body: (VolumeService, String) async throws -> Void) async throws {
        let base = "/tmp/berth-volume-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileSystem.removeTree(base) }
        try FileSystem.makeDirectories(base + "/trash", mode: 0o700)
        try await body(try VolumeService(root: base + "/volumes", trash: base + "/trash"), base)
    }

    @Test func namesAreCheckedAsDockerDoes() throws {
        for good in ["ab", "a-b_c.d", "0x"] { try Volume.validate(name: good) }
        for bad in ["a", "", "-ab", ".ab", "a/b", "a b", "é1"] {
            #expect(throws: EngineError.self) { try Volume.validate(name: bad) }
        }
    }

    @Test func createIsIdempotentAndSurvivesReopening() async throws {
        try await withService { service, base in
            let made = try await service.create(name: "keep", labels: ["k": "v"])
            let again = try await service.create(name: "keep", labels: ["other": "x"])
            #expect(made == again)
            let reopened = try VolumeService(root: base + "/volumes", trash: base + "/trash")
            #expect(try await reopened.inspect("keep") == made)
        }
    }

    @Test func aDirectoryLeftWithoutDataIsSweptAndOneWithoutRecordIsKept() async throws {
        try await withService { _, base in
            try FileSystem.makeDirectories(base + "/volumes/half", mode: 0o755)
            try FileSystem.makeDirectories(base + "/volumes/legacy/_data", mode: 0o755)
            let service = try VolumeService(root: base + "/volumes", trash: base + "/trash")
            #expect(await service.list().map(\.name) == ["legacy"])
            #expect(!FileSystem.exists(base + "/volumes/half"))
        }
    }

    @Test func inUseVolumesAreRefusedAndAnonymousOnesGoWithTheirContainer() async throws {
        try await withService { service, _ in
            _ = try await service.create(name: "named")
            let anonymous = try await service.ensure(name: nil, labels: [Volume.anonymousLabel: ""], options: [:], user: "c1")
            try await service.use(["named"], by: "c1")
            try await service.use(["named"], by: "c2")
            await #expect(throws: EngineError.conflict("remove named: volume is in use - [c1, c2]")) {
                try await service.remove("named", force: true)
            }
            await service.release(container: "c1", removeAnonymous: true)
            #expect(await service.list().map(\.name) == ["named"])
            #expect(await service.prune { _ in true }.names.isEmpty)
            await service.release(container: "c2", removeAnonymous: true)
            #expect(await service.prune { $0.isAnonymous }.names.isEmpty)
            #expect(await service.prune { _ in true }.names == ["named"])
            await #expect(throws: EngineError.noSuchVolume("named")) { try await service.inspect("named") }
            await #expect(throws: EngineError.noSuchVolume("gone")) { try await service.use(["gone"], by: "c3") }
        }
    }

    @Test func badOptionsAreRefusedBeforeAnythingIsMade() async throws {
        try await withService { service, base in
            await #expect(throws: EngineError.invalidParameter("invalid option: \"colour\"")) {
                try await service.create(name: "opts", options: ["colour": "red"])
            }
            await #expect(throws: EngineError.self) { try await service.create(name: "opts", options: ["type": "tmpfs"]) }
            #expect(FileSystem.listDirectory(base + "/volumes").isEmpty)
        }
    }
}
