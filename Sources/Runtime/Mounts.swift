import BerthSystem
import CBerthSys
import Glibc
import OCI

/// Performs the spec's `mounts` (config.md "Mounts") inside the root file system, each
/// destination resolved safely through `RootPath`.
struct Mounts {
    let root: RootPath
    /// Relative bind-mount sources are relative to the bundle.
    let bundle: String
    let cgroup: ContainerCgroup
    /// True when the container has its own cgroup namespace (a fresh cgroup2 mount then shows
    /// only the container's cgroup).
    let cgroupNamespace: Bool

    /// Mounts one entry of `mounts`.
    func mount(_ entry: RuntimeSpec.Mount) throws {
        let destination = Paths.clean(entry.destination)
        let options = MountOptions(entry.options ?? [])
        let type = entry.type ?? ""
        if type == "bind" || options.isBind {
            try bind(entry, to: destination, options: options)
        } else if type == "cgroup" || type == "cgroup2" {
            try mountCgroup(at: destination, options: options)
        } else {
            if type == "proc" || type == "sysfs" {
                // A symlinked /proc or /sys could redirect the mount (and later the masked
                // paths) somewhere else (CVE-2019-16884).
                if root.isSymlink(destination) {
                    throw RuntimeError.unsafeMount(destination: destination, reason: "\(type) must be mounted on an ordinary directory, not a symlink")
                }
            }
            let fd = try root.ensure(destination, as: .directory)
            defer { close(fd) }
            if (type == "proc" || type == "sysfs") && !RootPath.isDirectory(fd) {
                throw RuntimeError.unsafeMount(destination: destination, reason: "\(type) must be mounted on an ordinary directory")
            }
            do {
                try Mounts.mount(entry.source ?? type, on: fd, type: type, flags: options.flags, data: options.dataString, destination: destination)
            } catch RuntimeError.system(operation: _, errno: EPERM) where type == "sysfs" {
                // A user namespace without a network namespace of its own may not mount sysfs:
                // the host's, bound recursively, read-only when asked (runc does the same).
                try Mounts.mount("/sys", on: fd, type: nil, flags: MountFlag.bind | MountFlag.recursive, data: nil, destination: destination)
                if options.remountFlags != 0 {
                    let mounted = try root.open(destination)
                    defer { close(mounted) }
                    try Mounts.mount(nil, on: mounted, type: nil, flags: MountFlag.remount | MountFlag.bind | options.remountFlags,
                                     data: nil, destination: destination)
                }
            }
        }
        try applyPropagation(options.propagation, at: destination)
    }

    private func bind(_ entry: RuntimeSpec.Mount, to destination: String, options: MountOptions) throws {
        guard let rawSource = entry.source else {
            throw RuntimeError.invalidConfig("bind mount on \(destination) has no source")
        }
        let source = Paths.resolve(rawSource, relativeTo: bundle)
        var st = stat()
        guard stat(source, &st) == 0 else { throw RuntimeError.errno("bind mount source \(source)") }
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        try bindMount(source, to: destination, as: isDirectory ? .directory : .file,
                      recursive: options.flags & MountFlag.recursive != 0, remountFlags: options.remountFlags)
        if options.recursiveSet != 0 || options.recursiveClear != 0 {
            // `rro`: the submounts of an rbind become read-only too (a plain `ro` remount
            // reaches only the top one, leaving e.g. `-v /:/host:ro`'s submounts writable).
            let mounted = try root.open(destination)
            defer { close(mounted) }
            try check(berth_mount_setattr_recursive(mounted, options.recursiveSet, options.recursiveClear),
                      "set recursive mount attributes on \(destination)")
        }
    }

    /// Binds a host path onto `destination` and applies `remountFlags` (ro, nosuid, …) with a
    /// remount of the new mount.
    func bindMount(_ source: String, to destination: String, as kind: RootPath.Kind, recursive: Bool, remountFlags: UInt) throws {
        let fd = try root.ensure(destination, as: kind)
        defer { close(fd) }
        try Mounts.mount(source, on: fd, type: nil, flags: MountFlag.bind | (recursive ? MountFlag.recursive : 0), data: nil, destination: destination)
        if remountFlags != 0 {
            // The descriptor still names the directory under the new mount; reopen to reach it.
            let mounted = try root.open(destination)
            defer { close(mounted) }
            try Mounts.mount(nil, on: mounted, type: nil, flags: MountFlag.remount | MountFlag.bind | remountFlags, data: nil, destination: destination)
        }
    }

    /// v1: a tmpfs with a read-only bind of the container's own directory of each hierarchy
    /// (as runc does); v2: cgroup2 itself in a cgroup namespace, else a bind of the container's
    /// directory.
    private func mountCgroup(at destination: String, options: MountOptions) throws {
        let flags = options.remountFlags
        if cgroup.layout.isPureV2 {
            if cgroupNamespace {
                let fd = try root.ensure(destination, as: .directory)
                defer { close(fd) }
                try Mounts.mount("cgroup2", on: fd, type: "cgroup2", flags: flags, data: nil, destination: destination)
            } else if let path = cgroup.directories.first?.path {
                try bindMount(path, to: destination, as: .directory, recursive: false, remountFlags: flags)
            }
            return
        }
        let fd = try root.ensure(destination, as: .directory)
        do {
            defer { close(fd) }
            try Mounts.mount("tmpfs", on: fd, type: "tmpfs", flags: flags & ~MountFlag.readOnly, data: "mode=755", destination: destination)
        }
        for (hierarchy, path) in cgroup.directories where !hierarchy.isUnified {
            let name = String(hierarchy.mountPoint.split(separator: "/").last ?? "")
            guard !name.isEmpty else { continue }
            try bindMount(path, to: destination + "/" + name, as: .directory, recursive: false, remountFlags: flags | MountFlag.readOnly)
            // Co-mounted controllers (cpu,cpuacct) are also reachable by each name.
            if name.contains(",") {
                let dir = try root.open(destination)
                defer { close(dir) }
                for controller in name.split(separator: ",") where controller != Substring(name) {
                    _ = symlinkat(name, dir, String(controller))
                }
            }
        }
    }

    private func applyPropagation(_ flags: [UInt], at destination: String) throws {
        guard !flags.isEmpty else { return }
        let fd = try root.open(destination)
        defer { close(fd) }
        for flag in flags {
            try Mounts.mount(nil, on: fd, type: nil, flags: flag, data: nil, destination: destination)
        }
    }

    /// mount(2) onto the descriptor's magic link.
    static func mount(_ source: String?, on fd: Int32, type: String?, flags: UInt, data: String?, destination: String) throws {
        let target = RootPath.procPath(fd)
        if Glibc.mount(source, target, type, flags, data) != 0 {
            throw RuntimeError.errno("mount \(type ?? "bind") \(source ?? "") on \(destination)")
        }
    }
}
