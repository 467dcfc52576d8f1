import BerthSystem
import Glibc
import Testing
@testable import Engine

@Suite struct CgroupLockPrimerTests {
    static let hybrid = """
        12:pids:/system.slice/berthd.service
        4:cpu,cpuacct:/system.slice/berthd.service
        1:name=systemd:/system.slice/berthd.service
        0::/system.slice/berthd.service
        """

    @Test func cgroup2ComesFirstAtTheTopOrUnderUnified() {
        #expect(CgroupLockPrimer.ownProcsFile(cgroupTable: Self.hybrid, exists: { _ in true })
                == "/sys/fs/cgroup/system.slice/berthd.service/cgroup.procs")
        #expect(CgroupLockPrimer.ownProcsFile(cgroupTable: Self.hybrid, exists: { $0.hasPrefix("/sys/fs/cgroup/unified/") })
                == "/sys/fs/cgroup/unified/system.slice/berthd.service/cgroup.procs")
    }

    @Test func theV1PidsHierarchyWhenThereIsNoCgroup2() {
        let table = "3:pids:/\n2:memory:/\n"
        #expect(CgroupLockPrimer.ownProcsFile(cgroupTable: table, exists: { _ in true }) == "/sys/fs/cgroup/pids/cgroup.procs")
    }

    @Test func nothingWhenNoCandidateIsWritable() {
        #expect(CgroupLockPrimer.ownProcsFile(cgroupTable: Self.hybrid, exists: { _ in false }) == nil)
        #expect(CgroupLockPrimer.ownProcsFile(cgroupTable: "garbage\n::\n", exists: { _ in true }) == nil)
    }

    @Test func primingLeavesThisProcessInItsCgroupAndIsRateLimited() async throws {
        // The real thing, on this machine's cgroups: the move is to where the process already is.
        let primer = CgroupLockPrimer()
        let file = try #require(primer.procsFile)
        let before = try FileSystem.readFile("/proc/self/cgroup")
        #expect(primer.prime())
        #expect(!primer.prime(), "a second priming within the interval")
        try await Task.sleep(nanoseconds: 50_000_000)
        #expect(try FileSystem.readFile("/proc/self/cgroup") == before)
        let listed = String(decoding: try FileSystem.readFile(file), as: UTF8.self)
        #expect(listed.split(separator: "\n").contains(Substring("\(getpid())")))
        try await Task.sleep(nanoseconds: 10_000_000)
        #expect(primer.prime(), "priming again once the interval has passed")
    }
}
