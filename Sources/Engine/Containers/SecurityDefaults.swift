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

    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
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
        if privileged { return allCapabilities }
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
        if adds.contains("ALL") { set = allCapabilities }
        for cap in adds where cap != "ALL" && !set.contains(cap) { set.append(cap) }
        set.removeAll { drops.contains($0) && !adds.contains($0) }
        return set
    }
}
