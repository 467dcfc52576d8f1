import OCI
import Testing
@testable import Runtime

@Suite struct CgroupLayoutTests {
    static let hybrid = """
    25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    """

    @Test func hybridLayoutListsV1HierarchiesAndTheUnifiedOne() {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid)
        #expect(!layout.isPureV2)
        #expect(layout.hierarchies.map(\.mountPoint) == [
            "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified",
        ])
        #expect(layout.hierarchies[0].controllers == ["cpu", "cpuacct"])
        #expect(layout.hierarchies[2].controllers == ["name=systemd"])
        #expect(layout.hierarchies[3].isUnified)
    }

    @Test func pureV2IsOneUnifiedHierarchy() {
        let layout = CgroupLayout.parse(mountinfo: "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")
        #expect(layout.isPureV2)
        #expect(layout.hierarchies == [CgroupHierarchy(mountPoint: "/sys/fs/cgroup", controllers: [], isUnified: true)])
    }

    @Test func escapedMountPointsAreDecoded() {
        let layout = CgroupLayout.parse(mountinfo: "30 23 0:26 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n")
        #expect(layout.hierarchies.first?.mountPoint == "/mnt/my cgroup")
    }

    @Test func absoluteCgroupsPathIsUnderEachHierarchy() {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid)
        let cgroup = ContainerCgroup(cgroupsPath: "/berth/c1", id: "c1", layout: layout)
        #expect(cgroup.paths == [
            "/sys/fs/cgroup/cpu,cpuacct/berth/c1", "/sys/fs/cgroup/memory/berth/c1",
            "/sys/fs/cgroup/systemd/berth/c1", "/sys/fs/cgroup/unified/berth/c1",
        ])
        let reloaded = ContainerCgroup(paths: cgroup.paths, layout: layout)
        #expect(reloaded.directories.map(\.hierarchy) == layout.hierarchies)
    }

    @Test func deviceRulesUseTheKernelSyntax() {
        #expect(CgroupResources.deviceRule(RuntimeSpec.DeviceRule(allow: false, access: "rwm")) == "a *:* rwm")
        #expect(CgroupResources.deviceRule(RuntimeSpec.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm")) == "c 1:3 rwm")
        #expect(CgroupResources.deviceRule(RuntimeSpec.DeviceRule(allow: true, type: "c", major: 136, access: "rw")) == "c 136:* rw")
    }
}
