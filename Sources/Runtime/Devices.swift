import BerthSystem
import CBerthSys
import Glibc
import OCI

/// The device nodes and links of the container's `/dev` (config-linux.md "Default devices"
/// and "Devices"), made with mknod inside the root file system.
struct Devices {
    let root: RootPath

    /// A node to create: the fields of `linux.devices` entries that matter here.
    struct Node {
        var type: String
        var path: String
        var major: Int64
        var minor: Int64
        var fileMode: UInt32
        var uid: UInt32
        var gid: UInt32

        init(type: String = "c", path: String, major: Int64, minor: Int64, fileMode: UInt32 = 0o666, uid: UInt32 = 0, gid: UInt32 = 0) {
            self.type = type
            self.path = path
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }

        init(_ device: RuntimeSpec.Device) {
            self.init(type: device.type, path: device.path, major: device.major ?? 0, minor: device.minor ?? 0,
                      fileMode: device.fileMode ?? 0o666, uid: device.uid ?? 0, gid: device.gid ?? 0)
        }
    }

    /// The default devices every container gets, whatever `linux.devices` says.
    static let defaults: [Node] = [
        Node(path: "/dev/null", major: 1, minor: 3), Node(path: "/dev/zero", major: 1, minor: 5),
        Node(path: "/dev/full", major: 1, minor: 7), Node(path: "/dev/random", major: 1, minor: 8),
        Node(path: "/dev/urandom", major: 1, minor: 9), Node(path: "/dev/tty", major: 5, minor: 0),
    ]

    /// Creates the default devices, then the spec's, then the standard links.
    func create(_ specDevices: [RuntimeSpec.Device]) throws {
        let previous = umask(0)
        defer { umask(previous) }
        var seen = Set<String>()
        for device in Devices.defaults + specDevices.map(Node.init) {
            let path = Paths.clean(device.path)
            if seen.contains(path) { continue }
            seen.insert(path)
            try make(device, at: path)
        }
        try createLinks()
    }

    private func make(_ device: Node, at path: String) throws {
        let typeBits: mode_t
        switch device.type {
        case "c", "u": typeBits = S_IFCHR
        case "b": typeBits = S_IFBLK
        case "p": typeBits = S_IFIFO
        default: throw RuntimeError.invalidConfig("device \(path) has unknown type \"\(device.type)\"")
        }
        let components = Paths.components(path)
        guard let name = components.last else { throw RuntimeError.invalidConfig("device path \"\(device.path)\" is empty") }
        let parent = try root.ensure("/" + components.dropLast().joined(separator: "/"), as: .directory)
        defer { close(parent) }
        let number = berth_makedev(UInt32(truncatingIfNeeded: device.major), UInt32(truncatingIfNeeded: device.minor))
        let mode = typeBits | mode_t(device.fileMode) & 0o7777
        if mknodat(parent, name, mode, dev_t(number)) != 0 {
            if errno == EEXIST { return }
            // In a user namespace mknod is refused: bind the host's node instead, as runc does.
            guard errno == EPERM else { throw RuntimeError.errno("create device \(path)") }
            try bindHostNode(path, name: name, in: parent)
            return
        }
        if fchownat(parent, name, device.uid, device.gid, AT_SYMLINK_NOFOLLOW) != 0 {
            throw RuntimeError.errno("set owner of device \(path)")
        }
    }

    /// Binds the host's node at `path` onto an empty file of that name in `parent`.
    private func bindHostNode(_ path: String, name: String, in parent: Int32) throws {
        let placeholder = openat(parent, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard placeholder >= 0 else { throw RuntimeError.errno("create the mount point of device \(path)") }
        close(placeholder)
        let target = openat(parent, name, berth_O_PATH | O_NOFOLLOW | O_CLOEXEC)
        guard target >= 0 else { throw RuntimeError.errno("open the mount point of device \(path)") }
        defer { close(target) }
        if mount(path, RootPath.procPath(target), nil, MountFlag.bind, nil) != 0 {
            throw RuntimeError.errno("bind the host's \(path) (mknod is not allowed in a user namespace)")
        }
    }

    /// `/dev/fd`, `/dev/std{in,out,err}` and `/dev/ptmx -> pts/ptmx`.
    private func createLinks() throws {
        let dev = try root.ensure("/dev", as: .directory)
        defer { close(dev) }
        let links = [
            ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
            ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx"),
        ]
        for (target, name) in links {
            if name == "ptmx" { unlinkat(dev, name, 0) }
            if symlinkat(target, dev, name) != 0 && errno != EEXIST {
                throw RuntimeError.errno("create link /dev/\(name)")
            }
        }
    }
}
