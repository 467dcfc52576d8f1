import CBerthSys
import Glibc
import OCI

/// Builds the container's view of the file system (runtime-spec config.md "Root" and
/// "Mounts", config-linux.md "Devices", "Masked Paths", "Readonly Paths"): run inside the new
/// mount namespace, `prepare` then `pivot` then `finalize`. A container without a mount
/// namespace of its own gets only `applySysctls` and `changeRoot`.
struct RootFilesystem {
    let spec: RuntimeSpec
    let bundle: Bundle
    let cgroup: ContainerCgroup
    let cgroupNamespace: Bool

    private var rootfsPropagation: UInt? {
        spec.linux?.rootfsPropagation.flatMap { MountOptions.propagationFlags[$0] }
    }

    /// Makes the mount tree private (or slave, per `rootfsPropagation`) so nothing done here
    /// reaches the host, binds the rootfs onto itself (pivot_root needs a mount point), then
    /// performs the spec's mounts, creates devices and the working directory.
    func prepare() throws {
        let rootfs = bundle.rootfs
        var initial = MountFlag.private | MountFlag.recursive
        if let requested = rootfsPropagation, requested & MountFlag.slave != 0 { initial = requested }
        if mount(nil, "/", nil, initial, nil) != 0 { throw RuntimeError.errno("make the mount tree private") }
        if mount(rootfs, rootfs, nil, MountFlag.bind | MountFlag.recursive, nil) != 0 {
            throw RuntimeError.errno("bind the root file system \(rootfs) onto itself")
        }
        let rootFD = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw RuntimeError.errno("open the root file system \(rootfs)") }
        defer { close(rootFD) }
        let root = RootPath(rootFD: rootFD)
        let mounts = Mounts(root: root, bundle: bundle.path, cgroup: cgroup, cgroupNamespace: cgroupNamespace)
        for entry in spec.mounts ?? [] {
            try mounts.mount(entry)
        }
        try Devices(root: root).create(spec.linux?.devices ?? [])
        if let cwd = spec.process?.cwd, cwd.hasPrefix("/") {
            close(try root.ensure(cwd, as: .directory))
        }
    }

    /// Makes the rootfs the process's `/` with pivot_root(".", ".") and detaches the old root.
    /// The old root is made private first so the detach cannot propagate to the host.
    func pivot() throws {
        let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard oldRoot >= 0 else { throw RuntimeError.errno("open the old root") }
        defer { close(oldRoot) }
        let newRoot = open(bundle.rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard newRoot >= 0 else { throw RuntimeError.errno("open the root file system \(bundle.rootfs)") }
        defer { close(newRoot) }
        try check(fchdir(newRoot), "enter the root file system")
        try check(berth_pivot_root(".", "."), "pivot_root into \(bundle.rootfs)")
        try check(fchdir(oldRoot), "enter the old root")
        if mount(nil, ".", nil, MountFlag.private | MountFlag.recursive, nil) != 0 {
            throw RuntimeError.errno("make the old root private")
        }
        try check(umount2(".", Int32(MNT_DETACH)), "detach the old root")
        try check(chdir("/"), "enter the new root")
        if let requested = rootfsPropagation, requested & (MountFlag.shared | MountFlag.unbindable) != 0 {
            if mount(nil, "/", nil, requested, nil) != 0 { throw RuntimeError.errno("set the root's propagation to \(spec.linux?.rootfsPropagation ?? "")") }
        }
    }

    /// After pivot: read-only root, sysctls, then read-only and masked paths (sysctls first,
    /// since /proc/sys becomes read-only).
    func finalize() throws {
        if spec.root?.readonly == true {
            var fs = statvfs()
            let kept = statvfs("/", &fs) == 0 ? UInt(fs.f_flag) & (MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec) : 0
            if mount(nil, "/", nil, MountFlag.remount | MountFlag.bind | MountFlag.readOnly | kept, nil) != 0 {
                throw RuntimeError.errno("make the root file system read-only")
            }
        }
        try applySysctls()
        for path in spec.linux?.readonlyPaths ?? [] { try RootFilesystem.makeReadOnly(path) }
        for path in spec.linux?.maskedPaths ?? [] { try RootFilesystem.mask(path) }
    }

    /// Writes `linux.sysctl` through `/proc/sys` (whose namespaced entries are those of the
    /// writer's namespaces).
    func applySysctls() throws {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), !key.contains("..") else { throw RuntimeError.invalidConfig("invalid sysctl name \"\(key)\"") }
            try CgroupFile.write("/proc/sys/" + key.replacingDots(), value)
        }
    }

    /// Without a mount namespace: makes the rootfs the process's `/` with chroot, as runc
    /// does, mounting nothing.
    func changeRoot() throws {
        let newRoot = open(bundle.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard newRoot >= 0 else { throw RuntimeError.errno("open the root file system \(bundle.rootfs)") }
        defer { close(newRoot) }
        try RootFilesystem.enter(root: newRoot)
    }

    /// `chroot`s into the directory `root` is open on and enters it.
    static func enter(root: Int32) throws {
        try check(fchdir(root), "enter the root file system")
        try check(chroot("."), "chroot into the root file system")
        try check(chdir("/"), "enter the new root")
    }

    /// Bind-mounts `path` onto itself and remounts it ro,nosuid,nodev,noexec; absent paths are
    /// skipped.
    static func makeReadOnly(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if mount(path, path, nil, MountFlag.bind | MountFlag.recursive, nil) != 0 {
            throw RuntimeError.errno("bind \(path) read-only")
        }
        let flags = MountFlag.remount | MountFlag.bind | MountFlag.readOnly | MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec
        if mount(nil, path, nil, flags, nil) != 0 { throw RuntimeError.errno("remount \(path) read-only") }
    }

    /// Hides `path`: a file under /dev/null, a directory under an empty read-only tmpfs;
    /// absent paths are skipped.
    static func mask(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if mount("tmpfs", path, "tmpfs", MountFlag.readOnly, nil) != 0 { throw RuntimeError.errno("mask directory \(path)") }
        } else if mount("/dev/null", path, nil, MountFlag.bind, nil) != 0 {
            throw RuntimeError.errno("mask \(path)")
        }
    }
}

extension String {
    /// `net.ipv4.ip_forward` → `net/ipv4/ip_forward`.
    func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }
}
