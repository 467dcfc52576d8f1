import Glibc
@testable import LayerArchive
import Testing

/// The hostile-tar cases of security-defaults.md §2.1: each asserts the documented refusal or
/// sanitisation, and that nothing outside the target directory changed (the canary).
@Suite struct HostileLayerTests {
    @Test func t1RelativeEscapeIsRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        for name in ["../C/pwn", "../../C/pwn"] {
            let error = expectFailure(sandbox, sandbox.layer([.file(name, "pwned")]))
            #expect(error == .pathEscapesRoot(entry: name))
            #expect(error?.description.contains(name) == true)
        }
        #expect(!exists(sandbox.canary + "/pwn"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t2AbsolutePathIsTakenRelativeToTheRoot() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        _ = try LayerApplier().apply(layerAt: sandbox.layer([.file(sandbox.canary + "/pwn", "inside")]), to: sandbox.target)
        #expect(readText(sandbox.target + sandbox.canary + "/pwn") == "inside")
        #expect(!exists(sandbox.canary + "/pwn"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t3SymlinkToRootThenFileThroughItStaysInside() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .symlink("evil", to: "/"),
            .file("evil/C/pwn", "absolute"),
            .symlink("up", to: "../../.."),
            .file("up/C/pwn2", "relative"),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(readText(sandbox.target + "/C/pwn") == "absolute")
        #expect(readText(sandbox.target + "/C/pwn2") == "relative")
        #expect(!exists(sandbox.canary + "/pwn") && !exists(sandbox.canary + "/pwn2"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t3SymlinkToAHostDirectoryThenFileThroughItIsRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        // The link resolves inside D, where that directory does not exist: refused.
        let layer = sandbox.layer([.symlink("evil", to: sandbox.canary), .file("evil/pwn", "x")])
        #expect(expectFailure(sandbox, layer) == .parentNotDirectory(entry: "evil/pwn"))
        #expect(!exists(sandbox.canary + "/pwn"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t4SymlinkInOneLayerFileInTheNext() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let lower = sandbox.root + "/D1"
        let upper = sandbox.root + "/D2"
        mkdir(lower, 0o755)
        mkdir(upper, 0o755)
        _ = try LayerApplier().apply(layerAt: sandbox.layer([.symlink("etc", to: sandbox.canary)], name: "l1.tar"), to: lower)
        let second = sandbox.layer([.file("etc/passwd", "root:x:0:0")], name: "l2.tar")
        _ = try LayerApplier().apply(layerAt: second, to: upper)
        #expect(readText(upper + "/etc/passwd") == "root:x:0:0")
        // Applied onto the same directory, the link resolves inside it, where it leads nowhere.
        #expect(throws: LayerError.parentNotDirectory(entry: "etc/passwd")) {
            try LayerApplier().apply(layerAt: second, to: lower)
        }
        #expect(!exists(sandbox.canary + "/passwd"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t5EntriesOverASymlinkReplaceItNeverFollowIt() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .symlink("x", to: sandbox.victim), .file("x", "pwned", mode: 0o777),
            .symlink("y", to: sandbox.victim), .dir("y", mode: 0o777),
            .symlink("z", to: sandbox.victim), .file("t", "t"), .hardlink("z", to: "t"),
            .symlink("w", to: sandbox.canary), .dir("w", mode: 0o777),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(readText(sandbox.target + "/x") == "pwned")
        #expect(status(sandbox.target + "/y").map { $0.st_mode & S_IFMT } == S_IFDIR)
        #expect(status(sandbox.target + "/z")?.st_ino == status(sandbox.target + "/t")?.st_ino)
        #expect(readText(sandbox.victim) == "victim")
        #expect(status(sandbox.victim).map { $0.st_mode & 0o777 } == 0o644)
        #expect(status(sandbox.canary).map { $0.st_mode & 0o777 } == 0o755)
        #expect(sandbox.canaryIntact)
    }

    @Test func t6HardlinkOutsideIsRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        for target in ["../C/victim", "../../C/victim", sandbox.victim] {
            let error = expectFailure(sandbox, sandbox.layer([.hardlink("h", to: target)]))
            #expect(error == .invalidHardlink(entry: "h", target: target))
        }
        #expect(status(sandbox.victim)?.st_nlink == 1)
        #expect(sandbox.canaryIntact)
    }

    @Test func t7HardlinkToSymlinkLinksTheSymlinkItself() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([.symlink("s", to: sandbox.victim), .hardlink("h", to: "s")])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        let h = try #require(status(sandbox.target + "/h"))
        #expect(h.st_mode & S_IFMT == S_IFLNK)
        #expect(h.st_ino == status(sandbox.target + "/s")?.st_ino)
        #expect(status(sandbox.victim)?.st_nlink == 1)
        #expect(sandbox.canaryIntact)
    }

    @Test func t8WhiteoutThroughSymlinkDeletesNothingOutside() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let outward = sandbox.layer([.symlink("dir", to: sandbox.canary), .file("dir/.wh.victim")])
        #expect(expectFailure(sandbox, outward) == .parentNotDirectory(entry: "dir/.wh.victim"))
        let rooted = sandbox.layer([.symlink("top", to: "/"), .file("top/.wh.victim")], name: "rooted.tar")
        _ = try LayerApplier().apply(layerAt: rooted, to: sandbox.target)
        #expect(status(sandbox.target + "/victim").map { $0.st_mode & S_IFMT } == S_IFCHR)
        #expect(readText(sandbox.victim) == "victim")
        #expect(sandbox.canaryIntact)
    }

    @Test(arguments: [".wh.", "a/.wh..", ".wh..."])
    func t9WhiteoutOfEmptyDotOrDotDotIsRefused(name: String) {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        #expect(expectFailure(sandbox, sandbox.layer([.dir("a"), .file(name)])) == .invalidWhiteout(entry: name))
        #expect(sandbox.canaryIntact)
    }

    @Test func t10OpaqueMarkerAfterSiblingsKeepsThisLayersEntries() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .dir("a"), .file("a/mine", "kept"), .file("a/.wh..wh..opq"),
            .file("b/.wh..wh..opq"), .file("b/later", "kept too"),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(xattr(sandbox.target + "/a", "trusted.overlay.opaque") == "y")
        #expect(xattr(sandbox.target + "/b", "trusted.overlay.opaque") == "y")
        #expect(readText(sandbox.target + "/a/mine") == "kept")
        #expect(readText(sandbox.target + "/b/later") == "kept too")
        #expect(sandbox.canaryIntact)
    }

    @Test func t11WhiteoutDoesNotRemoveThisLayersFile() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([.file("f", "mine"), .file(".wh.f"), .file(".wh.g"), .file("g", "also mine")])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(readText(sandbox.target + "/f") == "mine")
        #expect(readText(sandbox.target + "/g") == "also mine")
        #expect(sandbox.canaryIntact)
    }

    @Test func t12AUFSMetadataIsNeverMaterialised() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .dir(".wh..wh.plnk"), .file(".wh..wh.plnk/123.456", "x"), .file(".wh..wh.aufs"),
            .dir("sub/.wh..wh.orph"), .file("sub/.wh..wh.orph/x"), .file("sub/real", "real"),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(snapshot(sandbox.target).filter { $0.contains(".wh.") }.isEmpty)
        #expect(readText(sandbox.target + "/sub/real") == "real")
        #expect(sandbox.canaryIntact)
    }

    @Test func t16HugePaxRecordFailsCleanly() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let huge = [UInt8](repeating: 0x41, count: 10 << 20)
        let layer = sandbox.layer([FixtureEntry(path: "f", xattrs: [("user.huge", huge)])])
        // libarchive itself refuses PAX headers this large; either refusal is clean.
        switch expectFailure(sandbox, layer) {
        case .corruptArchive?, .headerTooLarge?: break
        case let other: Issue.record("unexpected \(String(describing: other))")
        }
        #expect(!exists(sandbox.target + "/f"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t16MetadataOverTheHeaderLimitIsRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        var limits = LayerLimits.default
        limits.maxHeaderBytes = 64 << 10
        let layer = sandbox.layer([FixtureEntry(path: "f", xattrs: [("user.big", [UInt8](repeating: 0x41, count: 100 << 10))])])
        #expect(expectFailure(sandbox, layer, limits: limits) == .headerTooLarge(entry: "f", limit: 64 << 10))
        #expect(!exists(sandbox.target + "/f"))
        #expect(sandbox.canaryIntact)
    }

    @Test func t16TooManyEntriesAreRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        var limits = LayerLimits.default
        limits.maxEntries = 100
        let layer = sandbox.layer((0...100).map { .file("f\($0)") })
        #expect(expectFailure(sandbox, layer, limits: limits) == .tooManyEntries(limit: 100))
        #expect(sandbox.canaryIntact)
    }

    @Test func t16DeepDirectoriesAreRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let deep = Array(repeating: "a", count: 4096).joined(separator: "/")
        let error = expectFailure(sandbox, sandbox.layer([.file(deep, "deep")]))
        #expect(error == .pathTooLong(entry: deep, limit: 4096))
        #expect(sandbox.canaryIntact)
    }

    @Test func ownersOutsideTheIDRangeAreRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([FixtureEntry(path: "f", uid: 1 << 33, gid: 0)])
        #expect(expectFailure(sandbox, layer) == .invalidOwner(entry: "f", uid: 1 << 33, gid: 0))
        #expect(sandbox.canaryIntact)
    }

    @Test func t17DuplicatesLastEntryWinsAndSymlinksAreReplaced() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .file("a", "one"), .file("a", "two"),
            .dir("b"), .file("b", "file"),
            .file("c", "file"), .dir("c"),
            .file("d", "file"), .symlink("d", to: sandbox.victim), .file("d", "last"),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(readText(sandbox.target + "/a") == "two")
        #expect(readText(sandbox.target + "/b") == "file")
        #expect(status(sandbox.target + "/c").map { $0.st_mode & S_IFMT } == S_IFDIR)
        #expect(readText(sandbox.target + "/d") == "last")
        #expect(readText(sandbox.victim) == "victim")
        #expect(sandbox.canaryIntact)
    }

    @Test func t18DotDotInTheMiddleIsNormalisedOrRefused() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        #expect(expectFailure(sandbox, sandbox.layer([.file("a/../../C/x", "x")])) == .pathEscapesRoot(entry: "a/../../C/x"))
        // libarchive reads an empty regular file named with a trailing slash as a directory.
        _ = try LayerApplier().apply(layerAt: sandbox.layer([.file("a/../b", "b"), .file("./c/")]), to: sandbox.target)
        #expect(readText(sandbox.target + "/b") == "b")
        #expect(status(sandbox.target + "/c").map { $0.st_mode & S_IFMT } == S_IFDIR)
        #expect(!exists(sandbox.canary + "/x"))
        #expect(sandbox.canaryIntact)
    }

    @Test(arguments: ["trusted.overlay.opaque", "trusted.overlay.redirect", "trusted.overlay.metacopy"])
    func t19OverlayXattrsFromALayerAreRefused(name: String) {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([FixtureEntry(path: "d", type: S_IFDIR, mode: 0o755, xattrs: [(name, [0x79])])])
        #expect(expectFailure(sandbox, layer) == .forbiddenXattr(entry: "d/", name: name))
        #expect(xattr(sandbox.target + "/d", name) == nil)
        #expect(sandbox.canaryIntact)
    }

    @Test func t19RootlessOverlayXattrsAreDropped() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([FixtureEntry(path: "d", type: S_IFDIR, mode: 0o755,
                                                xattrs: [("user.overlay.opaque", [0x79]), ("user.kept", [0x31])])])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(xattr(sandbox.target + "/d", "user.overlay.opaque") == nil)
        #expect(xattr(sandbox.target + "/d", "user.kept") == "1")
        #expect(sandbox.canaryIntact)
    }

    @Test func t19FileCapabilitiesAreKept() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        // vfs_cap_data revision 2, effective, permitted = CAP_NET_BIND_SERVICE.
        let capability: [UInt8] = [0x01, 0, 0, 0x02, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let layer = sandbox.layer([FixtureEntry(path: "ping", mode: 0o755, contents: [0x7f],
                                                xattrs: [("security.capability", capability)])])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(xattr(sandbox.target + "/ping", "security.capability")?.utf8.count == capability.count)
        #expect(sandbox.canaryIntact)
    }
}
