import Glibc

/// Pausing a container by freezing its cgroup: the v1 freezer controller (`freezer.state`)
/// when the container has one, else cgroup2's `cgroup.freeze`.
enum Freezer {
    private enum Interface {
        case v1(String)
        case v2(String)
    }

    private static func interface(for paths: [String]) -> Interface? {
        if let path = paths.first(where: { CgroupFile.exists($0 + "/freezer.state") }) { return .v1(path) }
        if let path = paths.first(where: { CgroupFile.exists($0 + "/cgroup.freeze") }) { return .v2(path) }
        return nil
    }

    /// Whether the cgroup is frozen (or freezing).
    static func isFrozen(_ paths: [String]) -> Bool {
        switch interface(for: paths) {
        case let .v1(path): return CgroupFile.read(path + "/freezer.state") != "THAWED"
        case let .v2(path): return CgroupFile.read(path + "/cgroup.freeze") == "1"
        case nil: return false
        }
    }

    /// Freezes (or thaws) every process of the cgroup and waits, up to about 5 seconds, until
    /// the kernel reports it done.
    static func set(frozen: Bool, _ paths: [String]) throws {
        switch interface(for: paths) {
        case let .v1(path):
            try CgroupFile.write(path + "/freezer.state", frozen ? "FROZEN" : "THAWED")
            try wait(path) { CgroupFile.read(path + "/freezer.state") == (frozen ? "FROZEN" : "THAWED") }
        case let .v2(path):
            try CgroupFile.write(path + "/cgroup.freeze", frozen ? "1" : "0")
            try wait(path) {
                CgroupFile.read(path + "/cgroup.events").split(separator: "\n").contains(frozen ? "frozen 1" : "frozen 0")
            }
        case nil:
            throw RuntimeError.unsupported("pausing without a freezer cgroup")
        }
    }

    private static func wait(_ path: String, until done: () -> Bool) throws {
        for _ in 0..<5000 {
            if done() { return }
            usleep(1000)
        }
        throw RuntimeError.system(operation: "wait for the freezer of \(path)", errno: ETIMEDOUT)
    }
}
