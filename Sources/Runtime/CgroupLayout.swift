import BerthSystem
import Glibc

/// One mounted cgroup hierarchy: a v1 hierarchy with its controllers (`cpu`, `name=systemd`,
/// …) or the cgroup2 unified hierarchy.
public struct CgroupHierarchy: Equatable, Sendable {
    public let mountPoint: String
    /// Controllers of a v1 hierarchy; empty for cgroup2.
    public let controllers: [String]
    public let isUnified: Bool

    /// Whether this hierarchy holds `controller` (cgroup2 holds every one it has enabled).
    public func has(_ controller: String) -> Bool { isUnified || controllers.contains(controller) }
}

/// Which cgroup hierarchies this machine mounts, read from `/proc/self/mountinfo`: pure v2
/// (one cgroup2 mount), v1, or hybrid (v1 controllers plus a controller-less cgroup2).
public struct CgroupLayout: Equatable, Sendable {
    public let hierarchies: [CgroupHierarchy]

    /// True when only cgroup2 is mounted, so resources are set through the unified hierarchy.
    public var isPureV2: Bool { !hierarchies.isEmpty && hierarchies.allSatisfy(\.isUnified) }

    static let v1Controllers: Set<String> = [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
        "net_cls", "net_prio", "perf_event", "rdma", "misc",
    ]

    /// The layout of the calling process's mount namespace.
    public static func current() throws -> CgroupLayout {
        guard let bytes = try? FileSystem.readFile("/proc/self/mountinfo") else {
            throw RuntimeError.errno("read /proc/self/mountinfo")
        }
        return parse(mountinfo: String(decoding: bytes, as: UTF8.self))
    }

    /// Parses mountinfo text (proc(5)): the mount point is field 5, and after the ` - `
    /// separator come the file-system type, the source and the super options.
    static func parse(mountinfo: String) -> CgroupLayout {
        var result: [CgroupHierarchy] = []
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, fields.count > dash + 3 else { continue }
            let type = fields[dash + 1]
            let mountPoint = unescape(String(fields[4]))
            if type == "cgroup2" {
                result.append(CgroupHierarchy(mountPoint: mountPoint, controllers: [], isUnified: true))
            } else if type == "cgroup" {
                let controllers = fields[dash + 3].split(separator: ",").map(String.init)
                    .filter { v1Controllers.contains($0) || $0.hasPrefix("name=") }
                guard !controllers.isEmpty else { continue }
                result.append(CgroupHierarchy(mountPoint: mountPoint, controllers: controllers, isUnified: false))
            }
        }
        // A hierarchy mounted twice (bind mounts) is used once.
        var seen = Set<[String]>()
        result = result.filter { seen.insert($0.isUnified ? ["<unified>"] : $0.controllers).inserted }
        return CgroupLayout(hierarchies: result)
    }

    /// mountinfo escapes space, tab, newline and backslash as octal `\ooo`.
    private static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var i = 0
        while i < source.count {
            if source[i] == UInt8(ascii: "\\"), i + 3 < source.count,
               let value = UInt8(String(decoding: source[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(source[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The calling process's own cgroup path in `hierarchy` (from `/proc/self/cgroup`).
    static func ownPath(in hierarchy: CgroupHierarchy) -> String {
        guard let bytes = try? FileSystem.readFile("/proc/self/cgroup") else { return "/" }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ",").map(String.init)
            if hierarchy.isUnified ? (parts[0] == "0" && parts[1].isEmpty) : Set(controllers) == Set(hierarchy.controllers) {
                return String(parts[2])
            }
        }
        return "/"
    }
}
