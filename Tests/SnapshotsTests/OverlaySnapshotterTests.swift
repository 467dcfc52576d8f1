import Dispatch
import Glibc
import LayerArchive
import ContentDigest
import OCI
@testable import Snapshots
import Testing

@Suite struct OverlaySnapshotterTests {
    @Test func mountShowsTheMergedViewWithWhiteoutsAndOpaqueDirectories() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let base = try sandbox.layer { d in
            for sub in ["etc", "bin", "var", "var/cache"] { mkdir("\(d)/\(sub)", 0o755) }
            put("\(d)/etc/hostname", "one")
            put("\(d)/etc/passwd", "root")
            put("\(d)/bin/sh", "shell")
            put("\(d)/var/cache/a", "a")
            put("\(d)/var/cache/b", "b")
        }
        let top = try sandbox.layer { d in
            for sub in ["etc", "var", "var/cache"] { mkdir("\(d)/\(sub)", 0o755) }
            put("\(d)/etc/hostname", "two")
            mknod("\(d)/etc/passwd", S_IFCHR, 0)
            markOpaque("\(d)/var/cache")
            put("\(d)/var/cache/c", "c")
        }
        let chain = try sandbox.snapshotter.unpack([base, top])
        #expect(chain == chainIDs(of: [base.diffID, top.diffID]))
        #expect(chain.allSatisfy { sandbox.snapshotter.hasLayer(chainID: $0) })

        let s = sandbox.snapshotter
        try s.prepare(container: "c1", parent: chain[1])
        let merged = sandbox.mountPoint()
        try s.mount(container: "c1", at: merged)
        defer { try? s.unmount(merged) }
        #expect(contents(merged + "/etc/hostname") == "two")
        #expect(mode(merged + "/etc/passwd") == nil)
        #expect(names(merged + "/var/cache") == ["c"])
        #expect(contents(merged + "/bin/sh") == "shell")

        put(merged + "/new", "added")
        unlink(merged + "/bin/sh")
        put(merged + "/etc/hostname", "three")
        let changes = try s.changes(container: "c1")
        #expect(changes == [
            Change(path: "/bin", kind: .modified), Change(path: "/bin/sh", kind: .deleted),
            Change(path: "/etc", kind: .modified), Change(path: "/etc/hostname", kind: .modified),
            Change(path: "/new", kind: .added),
        ])

        // The upper directory is a layer again: commit it and check its whiteout.
        let committed = sandbox.root + "/commit.tgz"
        _ = try DiffWriter().writeLayer(fromUpper: s.upperDirectory(container: "c1"), to: committed)
        let copy = sandbox.root + "/applied"
        mkdir(copy, 0o755)
        _ = try LayerApplier().apply(layerAt: committed, to: copy)
        #expect(mode(copy + "/bin/sh").map { $0 & S_IFMT } == S_IFCHR)
        #expect(contents(copy + "/new") == "added")

        try s.unmount(merged)
        try s.unmount(merged)
        try s.remove(container: "c1")
        #expect(mode(s.root + "/containers/c1") == nil)
    }

    @Test func changesFollowOverlayLookupAcrossLayers() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let base = try sandbox.layer { d in
            for sub in ["etc", "old", "old/sub"] { mkdir("\(d)/\(sub)", 0o755) }
            put("\(d)/etc/passwd", "root")
            put("\(d)/old/sub/file", "x")
        }
        let top = try sandbox.layer { d in
            mkdir("\(d)/etc", 0o755)
            markOpaque("\(d)/etc")
            put("\(d)/etc/hosts", "hosts")
            mknod("\(d)/old", S_IFCHR, 0)
        }
        let s = sandbox.snapshotter
        let chain = try s.unpack([base, top])
        try s.prepare(container: "c", parent: chain[1])
        let merged = sandbox.mountPoint()
        try s.mount(container: "c", at: merged)
        defer { try? s.unmount(merged) }
        #expect(contents(merged + "/etc/passwd") == nil)
        put(merged + "/etc/passwd", "hidden below an opaque dir: added")
        put(merged + "/etc/hosts", "changed")
        mkdir(merged + "/old", 0o755)
        mkdir(merged + "/old/sub", 0o755)
        put(merged + "/old/sub/file", "deleted in a higher layer: added")
        #expect(try s.changes(container: "c") == [
            Change(path: "/etc", kind: .modified), Change(path: "/etc/hosts", kind: .modified),
            Change(path: "/etc/passwd", kind: .added), Change(path: "/old", kind: .added),
            Change(path: "/old/sub", kind: .added), Change(path: "/old/sub/file", kind: .added),
        ])
    }

    @Test func storeDirectoriesAreClosedToOtherUsers() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        for dir in ["", "/layers", "/containers", "/chains"] {
            #expect(mode(sandbox.snapshotter.root + dir).map { $0 & 0o777 } == 0o700)
        }
    }

    @Test func diffIDMismatchLeavesNoLayerBehind() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        var layer = try sandbox.layer { put("\($0)/f", "content") }
        let actual = layer.diffID
        layer.diffID = Digest.sha256(of: Array("something else".utf8))
        #expect(throws: SnapshotError.diffIDMismatch(layer: layer.path, expected: layer.diffID, actual: actual)) {
            try sandbox.snapshotter.unpack([layer])
        }
        #expect(!sandbox.snapshotter.hasLayer(chainID: layer.diffID))
        #expect(names(sandbox.snapshotter.root + "/layers").isEmpty)
        #expect(names(sandbox.snapshotter.root + "/chains").isEmpty)
    }

    @Test func damagedLayerLeavesNoLayerBehind() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let good = try sandbox.layer { put("\($0)/f", "content") }
        let bad = try sandbox.layer { d in
            for n in 0..<50 { put("\(d)/file\(n)", String(repeating: "\(n)", count: 10_000 + n)) }
        }
        var st = stat()
        stat(bad.path, &st)
        truncate(bad.path, st.st_size / 2)
        #expect(throws: LayerError.self) { try sandbox.snapshotter.unpack([good, bad]) }
        let chain = chainIDs(of: [good.diffID, bad.diffID])
        #expect(sandbox.snapshotter.hasLayer(chainID: chain[0]))
        #expect(!sandbox.snapshotter.hasLayer(chainID: chain[1]))
        #expect(names(sandbox.snapshotter.root + "/layers") == [chain[0].encoded])
    }

    @Test func concurrentUnpacksOfOneChainAgree() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let layers = try (0..<3).map { n in try sandbox.layer { put("\($0)/file\(n)", "\(n)") } }
        let snapshotter = sandbox.snapshotter
        let results = UnsafeMutableBufferPointer<[Digest]?>.allocate(capacity: 4)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            results[i] = try? snapshotter.unpack(layers)
        }
        let expected = chainIDs(of: layers.map(\.diffID))
        #expect(results.allSatisfy { $0 == expected })
        #expect(names(snapshotter.root + "/layers") == expected.map(\.encoded).sorted())
    }

    @Test func imageWithoutLayersStillMounts() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let s = sandbox.snapshotter
        try s.prepare(container: "scratch", parent: nil)
        let merged = sandbox.mountPoint()
        try s.mount(container: "scratch", at: merged)
        defer { try? s.unmount(merged) }
        put(merged + "/hello", "world")
        #expect(contents(s.upperDirectory(container: "scratch") + "/hello") == "world")
        #expect(try s.changes(container: "scratch") == [Change(path: "/hello", kind: .added)])
    }

    @Test func manyLayersMountEvenWhenTheOptionsExceedAPage() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let count = 45
        let layers = try (0..<count).map { n in try sandbox.layer { put("\($0)/f\(n)", "\(n)") } }
        let chain = try sandbox.snapshotter.unpack(layers)
        let lowerLength = chain.map { sandbox.snapshotter.layerDirectory($0).utf8.count + 1 }.reduce(0, +)
        #expect(lowerLength > Int(getpagesize()))
        try sandbox.snapshotter.prepare(container: "deep", parent: chain.last)
        let merged = sandbox.mountPoint()
        try sandbox.snapshotter.mount(container: "deep", at: merged, readOnly: true)
        defer { try? sandbox.snapshotter.unmount(merged) }
        #expect(names(merged).count == count)
        #expect(contents(merged + "/f0") == "0" && contents(merged + "/f44") == "44")
        #expect(open(merged + "/new", O_WRONLY | O_CREAT, 0o644) == -1 && errno == EROFS)
    }

    @Test(arguments: ["", ".", "..", "../escape", "a/b", String(repeating: "x", count: 129)])
    func unsafeContainerIDsAreRefused(id: String) throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        #expect(throws: SnapshotError.invalidContainerID(id)) {
            try sandbox.snapshotter.prepare(container: id, parent: nil)
        }
    }

    @Test func prepareChecksItsParentAndRefusesDuplicates() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let missing = Digest.sha256(of: Array("missing".utf8))
        #expect(throws: SnapshotError.layerNotFound(missing)) {
            try sandbox.snapshotter.prepare(container: "c", parent: missing)
        }
        try sandbox.snapshotter.prepare(container: "c", parent: nil)
        #expect(throws: SnapshotError.containerExists("c")) {
            try sandbox.snapshotter.prepare(container: "c", parent: nil)
        }
    }

    @Test func usageCountsTheWritableLayer() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        try sandbox.snapshotter.prepare(container: "u", parent: nil)
        #expect(try sandbox.snapshotter.usage(container: "u") == 0)
        let upper = sandbox.snapshotter.upperDirectory(container: "u")
        put(upper + "/data", String(repeating: "x", count: 100_000))
        #expect(try sandbox.snapshotter.usage(container: "u") >= 100_000)
    }

    @Test func rootsOverlayCannotNameAreRefused() {
        #expect(throws: SnapshotError.unsupportedRoot("/tmp/a,b")) { try OverlaySnapshotter(root: "/tmp/a,b") }
        #expect(throws: SnapshotError.unsupportedRoot("relative")) { try OverlaySnapshotter(root: "relative") }
    }

    @Test func interruptedUnpacksAreCleanedUp() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let layers = sandbox.snapshotter.root + "/layers"
        mkdir(layers + "/tmp-crashed", 0o755)
        put(layers + "/tmp-crashed/partial", "x")
        try sandbox.snapshotter.removeTemporaryLayers()
        #expect(names(layers).isEmpty)
    }

    @Test func removeLayerForgetsTheChain() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let layer = try sandbox.layer { put("\($0)/f", "x") }
        let chain = try sandbox.snapshotter.unpack([layer])
        try sandbox.snapshotter.removeLayer(chainID: chain[0])
        #expect(!sandbox.snapshotter.hasLayer(chainID: chain[0]))
        #expect(names(sandbox.snapshotter.root + "/layers").isEmpty)
        try sandbox.snapshotter.removeLayer(chainID: chain[0])
        #expect(try sandbox.snapshotter.unpack([layer]) == chain)
    }
}
