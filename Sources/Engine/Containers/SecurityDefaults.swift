import BerthSystem
import OCI

/// Docker's isolation defaults (moby `oci/defaults.go`, see the shared reference
/// `security-defaults.md` §1), which every Berth container starts from.
public enum SecurityDefaults {
    /// The 14 capabilities docker grants by default.
    public static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// Every capability the kernel knows by name (for `--cap-add ALL`).
    public static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// The capabilities in the daemon's own bounding set, in `allCapabilities` order: what
    /// `--privileged` and `--cap-add ALL` grant (moby does the same), since a runtime cannot
    /// give a container a capability its parent lacks (seen: a host without CAP_SYS_RESOURCE).
    public static let grantable: [String] = {
        guard let status = try? FileSystem.readFile("/proc/self/status"),
              let line = String(decoding: status, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              let mask = UInt64(String(line.dropFirst("CapBnd:".count).filter { !$0.isWhitespace }), radix: 16) else {
            return allCapabilities
        }
        return allCapabilities.filter { name in
            allCapabilityNumbers[name].map { mask & (1 << UInt64($0)) != 0 } ?? false
        }
    }()

    /// capability.h numbers of `allCapabilities`.
    static let allCapabilityNumbers: [String: Int] = [
        "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
        "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
        "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
        "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17,
        "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
        "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
        "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29,
        "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33,
        "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37,
        "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
    ]

    /// docker's default cgroup namespace mode: `private` where cgroup2 alone is mounted at
    /// /sys/fs/cgroup, `host` on v1 and hybrid machines (this one).
    public static let cgroupNamespaceMode = FileSystem.exists("/sys/fs/cgroup/cgroup.controllers") ? "private" : "host"

    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]

    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// Device cgroup: deny everything, then allow the default nodes (null, zero, urandom, random,
    /// full, tty, console 5:1), pts and ptmx, and mknod (not use) of any node. /dev/fuse is
    /// covered by the deny-all; an explicit deny after the mknod wildcard is a hole cgroup v1
    /// cannot punch (runc refuses it).
    public static let deviceRules: [RuntimeSpec.DeviceRule] = [
        .init(allow: false, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        .init(allow: true, type: "c", major: 136, access: "rwm"),
        .init(allow: true, type: "c", access: "m"),
        .init(allow: true, type: "b", access: "m"),
    ]

    /// The container's capability set after `--cap-add` / `--cap-drop` (names with or without
    /// `CAP_`, any case, `ALL`). Throws for unknown names.
    public static func capabilities(adding add: [String], dropping drop: [String], privileged: Bool) throws -> [String] {
        if privileged { return grantable }
        func normalize(_ name: String) throws -> String {
            let upper = name.uppercased()
            if upper == "ALL" { return upper }
            let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
            guard allCapabilities.contains(full) else { throw EngineError.invalidParameter("invalid capability: \(name)") }
            return full
        }
        let adds = try add.map(normalize)
        let drops = try drop.map(normalize)
        var set = drops.contains("ALL") ? [] : capabilities
        if adds.contains("ALL") { set = grantable }
        for cap in adds where cap != "ALL" && !set.contains(cap) { set.append(cap) }
        set.removeAll { drops.contains($0) && !adds.contains($0) }
        return set
    }
}
