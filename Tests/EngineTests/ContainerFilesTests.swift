import BerthSystem
import Glibc
import Testing
@testable import Engine

@Suite struct ContainerFilesTests {
    /// rootfs: /etc (dir), /abs -> /etc, /rel -> ../../../.., /tovol -> /vol/sub; a volume at
    /// /vol from another directory.
    private func withTree(_ body: (ContainerFiles, String) throws -> Void) throws {
        let base = "/tmp/berth-files-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileSystem.removeTree(base) }
        try FileSystem.makeDirectories(base + "/rootfs/etc", mode: 0o755)
        try FileSystem.makeDirectories(base + "/rootfs/vol", mode: 0o755)
        try FileSystem.makeDirectories(base + "/volume/sub", mode: 0o755)
        symlink("/etc", base + "/rootfs/abs")
        symlink("../../../..", base + "/rootfs/rel")
        symlink("/vol/sub", base + "/rootfs/tovol")
        let volume = MountPoint(kind: .volume, name: "v", source: base + "/volume", destination: "/vol", readOnly: true)
        try body(ContainerFiles(rootfs: base + "/rootfs", mounts: [volume], readOnlyRootfs: false), base)
    }

    @Test func linksResolveInsideTheContainerView() throws {
        try withTree { files, base in
            let abs = try files.resolve("/abs/passwd", followFinal: true)
            #expect(abs.root == base + "/rootfs" && abs.relative == ["etc", "passwd"] && abs.containerPath == "/etc/passwd")
            let rel = try files.resolve("/rel/etc", followFinal: true)
            #expect(rel.root == base + "/rootfs" && rel.relative == ["etc"])
            let intoVolume = try files.resolve("/tovol/file", followFinal: true)
            #expect(intoVolume.root == base + "/volume" && intoVolume.relative == ["sub", "file"])
            #expect(intoVolume.readOnlyReason == "mounted volume is marked read-only")
            let link = try files.resolve("/abs", followFinal: false)
            #expect(link.relative == ["abs"])
        }
    }

    @Test func missingComponentsAndLoopsAreErrors() throws {
        try withTree { files, base in
            #expect(throws: ContainerFilesError.self) { try files.resolve("/nope/x", followFinal: true) }
            symlink("/loop", base + "/rootfs/loop")
            #expect(throws: ContainerFilesError.self) { try files.resolve("/loop/x", followFinal: true) }
        }
    }
}
