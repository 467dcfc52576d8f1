import BerthSystem
import CBerthSys
import Glibc
import OCI

/// The namespace, device, sysctl and OOM settings of a container's spec, checked with docker's
/// rules and words, and turned into the bundle's pieces.
enum HostOptions {
    /// A namespace mode: a namespace of its own, the host's, or another container's.
    enum NamespaceMode: Equatable {
        case own
        case host
        case container(String)
        case none

        init(_ text: String?, kind: String, extra: Set<String> = []) throws {
            let value = text ?? ""
            switch value {
            case "", "private": self = .own
            case "host": self = .host
            case "shareable" where extra.contains("shareable"): self = .own
            case "none" where extra.contains("none"): self = .none
            default:
                guard value.hasPrefix("container:"), value.count > "container:".count else {
                    throw EngineError.invalidParameter("invalid \(kind) mode: \(value)")
                }
                self = .container(String(value.dropFirst("container:".count)))
            }
        }
    }

    static func pid(_ spec: ContainerSpec) throws -> NamespaceMode { try NamespaceMode(spec.namespaces.pid, kind: "PID") }
    static func ipc(_ spec: ContainerSpec) throws -> NamespaceMode { try NamespaceMode(spec.namespaces.ipc, kind: "IPC", extra: ["shareable", "none"]) }
    /// UTS is the host's or the container's own (docker has no `container:` UTS mode).
    static func uts(_ spec: ContainerSpec) throws -> NamespaceMode {
        let mode = try NamespaceMode(spec.namespaces.uts, kind: "UTS")
        if case .container = mode { throw EngineError.invalidParameter("invalid UTS mode: \(spec.namespaces.uts)") }
        return mode
    }

    /// Checks everything at create; `remapped` is a container in the daemon's user namespace.
    static func validate(_ spec: ContainerSpec, remapped: Bool) throws {
        let modes = [("PID", try pid(spec)), ("IPC", try ipc(spec)), ("UTS", try uts(spec))]
        if remapped, let (kind, _) = modes.first(where: { $0.1 == .host }) {
            throw EngineError.invalidParameter("cannot share the host's \(kind) namespace when user namespaces are enabled")
        }
        if try uts(spec) == .host, !spec.hostname.isEmpty {
            throw EngineError.invalidParameter("Conflicting options: hostname and the UTS mode")
        }
        let adjust = spec.security.oomScoreAdj
        if !(-1000...1000).contains(adjust) {
            throw EngineError.invalidParameter("Invalid value \(adjust), range for oom score adj is [-1000, 1000]")
        }
        for rule in spec.security.deviceCgroupRules { _ = try deviceRule(rule) }
        for request in spec.security.devices { _ = try device(request) }
        for key in spec.security.sysctls.keys {
            try checkSysctl(key, hostNetwork: spec.network.isHost, hostIPC: try ipc(spec) == .host, hostUTS: try uts(spec) == .host)
        }
    }

    /// docker's namespaced sysctls: IPC ones (not with `--ipc host`), `kernel.domainname` and
    /// `kernel.hostname` (not with `--uts host`), and `net.*` (not with `--network host`).
    static func checkSysctl(_ key: String, hostNetwork: Bool, hostIPC: Bool, hostUTS: Bool) throws {
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(key) || key.hasPrefix("fs.mqueue.") {
            if hostIPC { throw EngineError.invalidParameter("sysctl '\(key)' not allowed with IpcMode=host") }
            return
        }
        if key == "kernel.domainname" || key == "kernel.hostname" {
            if hostUTS { throw EngineError.invalidParameter("sysctl '\(key)' not allowed with UTSMode=host") }
            return
        }
        if key.hasPrefix("net.") {
            if hostNetwork { throw EngineError.invalidParameter("sysctl '\(key)' not allowed in host network namespace") }
            return
        }
        throw EngineError.invalidParameter("sysctl '\(key)' is not allowed")
    }

    /// `c 1:3 rwm`, `b *:* m`, `a`.
    static func deviceRule(_ text: String) throws -> RuntimeSpec.DeviceRule {
        let fields = text.split(separator: " ").map(String.init)
        let invalid = EngineError.invalidParameter("invalid device cgroup format '\(text)'")
        guard let type = fields.first, ["a", "b", "c"].contains(type) else { throw invalid }
        if type == "a" && fields.count == 1 { return RuntimeSpec.DeviceRule(allow: true, type: "a", access: "rwm") }
        guard fields.count == 3 else { throw invalid }
        let numbers = fields[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard numbers.count == 2 else { throw invalid }
        func number(_ s: String) throws -> Int64? {
            if s == "*" { return nil }
            guard let n = Int64(s), n >= 0 else { throw invalid }
            return n
        }
        let access = fields[2]
        guard !access.isEmpty, access.count <= 3, access.allSatisfy({ "rwm".contains($0) }) else { throw invalid }
        return RuntimeSpec.DeviceRule(allow: true, type: type, major: try number(numbers[0]), minor: try number(numbers[1]), access: access)
    }

    /// A host device node given with `--device`: the node for the container and the rule
    /// that allows it.
    static func device(_ request: DeviceRequest) throws -> (RuntimeSpec.Device, RuntimeSpec.DeviceRule) {
        var st = stat()
        guard stat(request.pathOnHost, &st) == 0 else {
            throw EngineError.invalidParameter("error gathering device information while adding custom device \"\(request.pathOnHost)\": \(String(cString: strerror(errno)).lowercased())")
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFCHR || kind == S_IFBLK else {
            throw EngineError.invalidParameter("error gathering device information while adding custom device \"\(request.pathOnHost)\": not a device node")
        }
        let permissions = request.permissions.isEmpty ? "rwm" : request.permissions
        guard permissions.count <= 3, permissions.allSatisfy({ "rwm".contains($0) }) else {
            throw EngineError.invalidParameter("invalid device cgroup permissions '\(permissions)' for \(request.pathOnHost)")
        }
        let target = request.pathInContainer.isEmpty ? request.pathOnHost : request.pathInContainer
        guard target.hasPrefix("/") else { throw EngineError.invalidParameter("\(target) is not an absolute path") }
        let type = kind == S_IFCHR ? "c" : "b"
        let major = Int64(berth_major(UInt(st.st_rdev)))
        let minor = Int64(berth_minor(UInt(st.st_rdev)))
        let node = RuntimeSpec.Device(type: type, path: target, major: major, minor: minor, fileMode: UInt32(st.st_mode & 0o777), uid: 0, gid: 0)
        return (node, RuntimeSpec.DeviceRule(allow: true, type: type, major: major, minor: minor, access: permissions))
    }
}
