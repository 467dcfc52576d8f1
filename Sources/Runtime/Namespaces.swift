import CBerthSys
import Glibc
import OCI

/// A namespace type as config-linux.md names it.
enum NamespaceKind: String, CaseIterable {
    case pid, network, mount, ipc, uts, user, cgroup

    var cloneFlag: Int32 {
        switch self {
        case .pid: return berth_CLONE_NEWPID
        case .network: return berth_CLONE_NEWNET
        case .mount: return berth_CLONE_NEWNS
        case .ipc: return berth_CLONE_NEWIPC
        case .uts: return berth_CLONE_NEWUTS
        case .user: return berth_CLONE_NEWUSER
        case .cgroup: return berth_CLONE_NEWCGROUP
        }
    }

    /// The name under `/proc/<pid>/ns/`.
    var procName: String {
        switch self {
        case .network: return "net"
        case .mount: return "mnt"
        default: return rawValue
        }
    }
}

/// How a new process gets its namespaces: which ones `clone` creates, which existing ones it
/// joins (by path), and whether it unshares a cgroup namespace once placed in its cgroup (so
/// the namespace's root is the container's cgroup, not the runtime's).
struct NamespacePlan {
    private(set) var cloneFlags: Int32 = 0
    private(set) var unshareCgroup = false
    private(set) var pidPath: String?
    private(set) var joins: [(kind: NamespaceKind, path: String)] = []
    private(set) var kinds: [NamespaceKind] = []
    /// True when `clone` makes a new user namespace, whose ID maps the runtime writes before
    /// init goes on (every other new namespace is then owned by it).
    var createsUserNamespace: Bool { cloneFlags & berth_CLONE_NEWUSER != 0 }
    /// An existing user namespace to create the others in (`linux.namespaces` type `user` with
    /// a path), joined by an intermediate process before the clone.
    private(set) var userPath: String?
    /// True when the container has a mount namespace of its own; without one it stays in the
    /// caller's (config-linux.md: an unlisted namespace is inherited) and only changes its root.
    var hasMountNamespace: Bool { kinds.contains(.mount) }
    /// True when init ends up in a user namespace other than the runtime's.
    var entersUserNamespace: Bool { createsUserNamespace || userPath != nil }

    /// The plan for a new container from `linux.namespaces`.
    init(spec namespaces: [RuntimeSpec.Namespace]) throws {
        for namespace in namespaces {
            guard let kind = NamespaceKind(rawValue: namespace.type) else {
                throw RuntimeError.invalidConfig("unknown namespace type \"\(namespace.type)\"")
            }
            kinds.append(kind)
            if let path = namespace.path, !path.isEmpty {
                if kind == .pid { pidPath = path } else if kind == .user { userPath = path } else { joins.append((kind, path)) }
            } else if kind == .cgroup {
                unshareCgroup = true
            } else {
                cloneFlags |= kind.cloneFlag
            }
        }
    }

    /// The plan for `exec`: join every namespace of the container's init `pid`.
    init(joining pid: Int32, kinds: [NamespaceKind]) {
        self.kinds = kinds
        for kind in kinds {
            let path = "/proc/\(pid)/ns/\(kind.procName)"
            if kind == .pid { pidPath = path } else { joins.append((kind, path)) }
        }
    }

    /// Run in the runtime before forking: makes the next child's pid namespace the one at
    /// `pidPath` (setns on a pid namespace affects children only, so it must precede the fork).
    func enterPidNamespaceForChildren() throws {
        guard let path = pidPath else { return }
        try NamespacePlan.join(kind: .pid, fd: NamespacePlan.open(path))
    }

    /// Forks the container's init: a plain clone with `cloneFlags`, or, with an existing user
    /// namespace to join, one made from inside it. 0 in the child, its pid in the runtime.
    func cloneInit() throws -> Int32 {
        guard let userPath else { return berth_clone_fork(cloneFlags) }
        let fd = try NamespacePlan.open(userPath)
        defer { close(fd) }
        return berth_clone_fork_in_userns(fd, cloneFlags)
    }

    /// For `exec` into a container without a mount namespace of its own: its init's root
    /// directory (`O_PATH`), to `chroot` into as init did. nil when the mount namespace is
    /// joined, which brings its root along.
    func openInheritedRoot(of pid: Int32) throws -> Int32? {
        guard !hasMountNamespace else { return nil }
        return try check(Glibc.open("/proc/\(pid)/root", O_PATH | O_DIRECTORY | O_CLOEXEC), "open the root of process \(pid)")
    }

    /// The namespaces joined by path that the runtime enters for the clone when init gets a
    /// user namespace other than the runtime's: one made by someone outside it (a network
    /// namespace an engine wired) can only be joined with the runtime's own capabilities, which
    /// init gives up with the clone. Joined before the user namespace is made, as runc's
    /// nsexec does, they stay owned by whoever made them.
    private static let enteredForClone: Set<NamespaceKind> = [.network, .ipc, .uts]

    /// Opens every namespace to join (for init, those the runtime did not enter for the clone).
    /// Done before joining any, because after joining the mount namespace `/proc/<pid>` paths no
    /// longer name the same processes.
    func openJoins(afterClone: Bool = false) throws -> [(kind: NamespaceKind, fd: Int32)] {
        try joins.filter { !(afterClone && entersUserNamespace && Self.enteredForClone.contains($0.kind)) }
            .map { ($0.kind, try NamespacePlan.open($0.path)) }
    }

    /// Run in the runtime right before `cloneInit` when init enters a user namespace: joins
    /// the network, IPC and UTS namespaces given by path, so init is made in them; answers the
    /// runtime's own, to go back to with `leave` once init is made.
    func enterForClone() throws -> [(kind: NamespaceKind, fd: Int32)] {
        guard entersUserNamespace else { return [] }
        var own: [(kind: NamespaceKind, fd: Int32)] = []
        do {
            for entry in joins where Self.enteredForClone.contains(entry.kind) {
                let target = try NamespacePlan.open(entry.path)
                let current: Int32
                do {
                    current = try NamespacePlan.open("/proc/thread-self/ns/\(entry.kind.procName)")
                } catch {
                    close(target)
                    throw error
                }
                own.append((entry.kind, current))
                try NamespacePlan.join(kind: entry.kind, fd: target)
            }
        } catch {
            try? Self.leave(own)
            throw error
        }
        return own
    }

    /// Returns the runtime to the namespaces `enterForClone` saved.
    static func leave(_ own: [(kind: NamespaceKind, fd: Int32)]) throws {
        for entry in own { try join(kind: entry.kind, fd: entry.fd) }
    }

    /// Joins the opened namespaces: first those of other kinds (with the caller's capabilities,
    /// which reach any namespace, whoever owns it), then the user namespace, the mount
    /// namespace last (it is owned by the user namespace, whose capabilities it then needs).
    static func join(_ opened: [(kind: NamespaceKind, fd: Int32)]) throws {
        for entry in opened where entry.kind != .mount && entry.kind != .user { try join(kind: entry.kind, fd: entry.fd) }
        for entry in opened where entry.kind == .user { try join(kind: entry.kind, fd: entry.fd) }
        for entry in opened where entry.kind == .mount { try join(kind: entry.kind, fd: entry.fd) }
    }

    /// Writes a new user namespace's `uid_map` and `gid_map` (config-linux.md "User namespace
    /// mappings") for the process `pid`, from the runtime outside it.
    static func writeIDMaps(pid: Int32, uids: [RuntimeSpec.IDMapping], gids: [RuntimeSpec.IDMapping]) throws {
        let map = IDMap(uids: uids, gids: gids)
        try CgroupFile.write("/proc/\(pid)/uid_map", map.uidMapText)
        try CgroupFile.write("/proc/\(pid)/gid_map", map.gidMapText)
    }

    /// Becomes root of the user namespace just entered (its mappings written), so set-up runs
    /// with the namespace's full capabilities as uid 0.
    static func becomeNamespaceRoot() throws {
        try check(setgid(0), "become group 0 in the user namespace")
        try check(setuid(0), "become user 0 in the user namespace")
    }

    private static func open(_ path: String) throws -> Int32 {
        try check(Glibc.open(path, O_RDONLY | O_CLOEXEC), "open namespace \(path)")
    }

    private static func join(kind: NamespaceKind, fd: Int32) throws {
        defer { close(fd) }
        try check(berth_setns(fd, kind.cloneFlag), "join \(kind.rawValue) namespace")
    }
}
