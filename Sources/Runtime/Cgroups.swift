import BerthSystem
import Glibc
import OCI

/// A container's cgroup: one directory per mounted hierarchy (v1), or one in the unified
/// hierarchy (v2). Creating it applies `linux.resources`; the runtime then places init in it
/// before init runs any code of the container.
struct ContainerCgroup {
    /// The cgroup directories, each with the hierarchy it belongs to.
    let directories: [(hierarchy: CgroupHierarchy, path: String)]
    let layout: CgroupLayout

    /// The directories for `cgroupsPath` (config-linux.md "Cgroups path"): an absolute path is
    /// relative to each hierarchy's root, a relative one (or none: the container ID) to the
    /// runtime's own cgroup.
    init(cgroupsPath: String?, id: String, layout: CgroupLayout) {
        self.layout = layout
        let requested = (cgroupsPath?.isEmpty ?? true) ? id : (cgroupsPath ?? id)
        directories = layout.hierarchies.map { hierarchy in
            let inHierarchy = requested.hasPrefix("/")
                ? Paths.clean(requested)
                : Paths.clean(CgroupLayout.ownPath(in: hierarchy) + "/" + requested)
            return (hierarchy, Paths.clean(hierarchy.mountPoint + inHierarchy))
        }
    }

    /// The cgroup from the directories a record remembers.
    init(paths: [String], layout: CgroupLayout) {
        self.layout = layout
        directories = paths.compactMap { path in
            layout.hierarchies.first { path == $0.mountPoint || path.hasPrefix($0.mountPoint + "/") }.map { ($0, path) }
        }
    }

    var paths: [String] { directories.map(\.path) }

    /// Creates the directories and applies `resources`. Device rules go to the v1 `devices`
    /// controller where it is mounted and, as an eBPF program, to the cgroup2 directory
    /// wherever there is one (on a hybrid machine both apply, and each alone denies).
    func create(resources: RuntimeSpec.Resources?) throws {
        for (hierarchy, path) in directories {
            try makeDirectory(path, in: hierarchy)
        }
        guard let resources else { return }
        if let rules = resources.devices, let unified = directories.first(where: { $0.hierarchy.isUnified })?.path {
            try DeviceFilter(rules, implicit: CgroupResources.implicitDeviceRules).attach(to: unified)
        }
        if layout.isPureV2 {
            try CgroupResources.applyV2(resources, to: directories.first?.path ?? "")
        } else {
            try CgroupResources.applyV1(resources, directory: { controller in
                directories.first { !$0.hierarchy.isUnified && $0.hierarchy.has(controller) }?.path
            })
        }
    }

    /// Changes the limits of an existing cgroup (`update`): memory, CPU, cpuset and pids; the
    /// device rules stay as created. A memory limit and a memory+swap limit are written in
    /// whichever order the kernel accepts (the first may not exceed the second).
    func update(resources: RuntimeSpec.Resources) throws {
        var limits = resources
        limits.devices = nil
        if layout.isPureV2 {
            try CgroupResources.applyV2(limits, to: directories.first?.path ?? "")
            return
        }
        let directory: (String) -> String? = { controller in
            directories.first { !$0.hierarchy.isUnified && $0.hierarchy.has(controller) }?.path
        }
        if let swap = limits.memory?.swap, let dir = directory("memory"), CgroupFile.exists(dir + "/memory.memsw.limit_in_bytes") {
            // Raising both: memory+swap first; lowering both: memory first.
            if (try? CgroupFile.write(dir + "/memory.memsw.limit_in_bytes", "\(swap)")) != nil { limits.memory?.swap = nil }
        }
        try CgroupResources.applyV1(limits, directory: directory)
    }

    /// Moves `pid` into every directory of the cgroup.
    func add(pid: Int32) throws {
        for (_, path) in directories {
            try CgroupFile.write(path + "/cgroup.procs", "\(pid)")
        }
    }

    /// Pids currently in the cgroup (read from the first hierarchy).
    func processes() -> [Int32] {
        guard let path = directories.first?.path,
              let bytes = try? FileSystem.readFile(path + "/cgroup.procs") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
    }

    /// Removes the directories, waiting up to about a second for exiting processes to leave.
    func remove() throws {
        for (_, path) in directories {
            var attempts = 0
            while rmdir(path) != 0 {
                if errno == ENOENT { break }
                attempts += 1
                if errno != EBUSY || attempts > 1000 { throw RuntimeError.errno("remove cgroup \(path)") }
                usleep(1000)
            }
        }
    }

    /// `mkdir -p`, initialising each new v1 cpuset level from its parent (an empty
    /// `cpuset.cpus` would make joining fail with ENOSPC) and, on v2, enabling the controllers
    /// of each ancestor for its children.
    private func makeDirectory(_ path: String, in hierarchy: CgroupHierarchy) throws {
        let relative = Paths.components(String(path.dropFirst(hierarchy.mountPoint.count)))
        var current = hierarchy.mountPoint
        for component in relative {
            let parent = current
            current += "/" + component
            if hierarchy.isUnified && layout.isPureV2 {
                CgroupFile.enableControllers(of: parent)
            }
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RuntimeError.errno("create cgroup \(current)")
            }
            if hierarchy.controllers.contains("cpuset") {
                for file in ["cpuset.cpus", "cpuset.mems"] where CgroupFile.read(current + "/" + file).isEmpty {
                    try CgroupFile.write(current + "/" + file, CgroupFile.read(parent + "/" + file))
                }
            }
        }
    }
}

/// Reads and writes of cgroup control files.
enum CgroupFile {
    static func write(_ path: String, _ value: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.errno("open \(path)") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written < 0 { throw RuntimeError.errno("write \"\(value)\" to \(path)") }
    }

    /// The file's content without surrounding whitespace; empty when unreadable.
    static func read(_ path: String) -> String {
        guard let bytes = try? FileSystem.readFile(path) else { return "" }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Enables, for the children of a v2 cgroup, the controllers Berth configures that it has.
    /// Best effort: a controller that cannot be enabled shows up as a missing file later.
    static func enableControllers(of directory: String) {
        let available = Set(read(directory + "/cgroup.controllers").split(separator: " ").map(String.init))
        let wanted = ["cpu", "cpuset", "memory", "pids", "io"].filter(available.contains)
        guard !wanted.isEmpty else { return }
        try? write(directory + "/cgroup.subtree_control", wanted.map { "+" + $0 }.joined(separator: " "))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
