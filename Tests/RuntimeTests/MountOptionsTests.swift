import Testing
import BerthSystem
@testable import Runtime

@Suite struct MountOptionsTests {
    @Test func flagsPropagationAndDataAreSeparated() {
        let options = MountOptions(["nosuid", "noexec", "nodev", "ro", "rprivate", "mode=755", "size=65536k"])
        #expect(options.flags == MountFlag.noSuid | MountFlag.noExec | MountFlag.noDev | MountFlag.readOnly)
        #expect(options.propagation == [MountFlag.private | MountFlag.recursive])
        #expect(options.dataString == "mode=755,size=65536k")
    }

    @Test func laterOptionsClearEarlierOnes() {
        let options = MountOptions(["ro", "rw", "nosuid", "suid", "defaults"])
        #expect(options.flags == 0)
        #expect(options.dataString == nil)
    }

    @Test func rbindIsARecursiveBindAndNeedsNoRemountAlone() {
        let options = MountOptions(["rbind"])
        #expect(options.isBind)
        #expect(options.flags & MountFlag.recursive != 0)
        #expect(options.remountFlags == 0)
        #expect(MountOptions(["bind", "ro"]).remountFlags == MountFlag.readOnly)
    }
}

@Suite struct PathsTests {
    @Test func cleanRemovesDotsAndRepeatedSlashes() {
        #expect(Paths.clean("/a//b/./c/../d/") == "/a/b/d")
        #expect(Paths.clean("../../etc/passwd") == "/etc/passwd")
        #expect(Paths.clean("") == "/")
    }

    @Test func relativePathsResolveAgainstTheBase() {
        #expect(Paths.resolve("rootfs", relativeTo: "/bundles/b1") == "/bundles/b1/rootfs")
        #expect(Paths.resolve("/abs/root", relativeTo: "/bundles/b1") == "/abs/root")
        #expect(Paths.components("/dev/pts/") == ["dev", "pts"])
    }
}
