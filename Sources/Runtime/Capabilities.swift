import BerthSystem
import CBerthSys
import Glibc
import OCI

/// The capability sets of the container process (config.md "capabilities"), as bit masks.
struct CapabilitySets: Equatable {
    var bounding: UInt64 = 0
    var effective: UInt64 = 0
    var permitted: UInt64 = 0
    var inheritable: UInt64 = 0
    var ambient: UInt64 = 0

    /// capability.h numbering, CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40.
    static let names: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Sets from the spec; a missing set is empty. Unknown names are an error.
    init(_ capabilities: RuntimeSpec.Capabilities?) throws {
        bounding = try CapabilitySets.mask(capabilities?.bounding)
        effective = try CapabilitySets.mask(capabilities?.effective)
        permitted = try CapabilitySets.mask(capabilities?.permitted)
        inheritable = try CapabilitySets.mask(capabilities?.inheritable)
        ambient = try CapabilitySets.mask(capabilities?.ambient)
    }

    static func mask(_ names: [String]?) throws -> UInt64 {
        var mask: UInt64 = 0
        for name in names ?? [] {
            let canonical = name.uppercased().hasPrefix("CAP_") ? name.uppercased() : "CAP_" + name.uppercased()
            guard let bit = CapabilitySets.names.firstIndex(of: canonical) else {
                throw RuntimeError.invalidConfig("unknown capability \"\(name)\"")
            }
            mask |= 1 << UInt64(bit)
        }
        return mask
    }

    /// The highest capability this kernel knows (`/proc/sys/kernel/cap_last_cap`).
    static func lastCapability() -> Int {
        Int(CgroupFile.read("/proc/sys/kernel/cap_last_cap")) ?? (names.count - 1)
    }

    private static let prCapBSetDrop: Int32 = 24
    private static let prCapAmbient: Int32 = 47
    private static let prCapAmbientRaise: UInt = 2
    private static let prCapAmbientClearAll: UInt = 4

    /// Drops every capability outside `bounding` from the bounding set. Needs CAP_SETPCAP, so
    /// it runs before the user switch.
    func dropBoundingSet() throws {
        for cap in 0...CapabilitySets.lastCapability() where bounding & (1 << UInt64(cap)) == 0 {
            if berth_prctl(CapabilitySets.prCapBSetDrop, UInt(cap), 0, 0, 0) != 0 && errno != EINVAL {
                throw RuntimeError.errno("drop capability \(CapabilitySets.name(of: cap)) from the bounding set")
            }
        }
    }

    /// Sets effective, permitted and inheritable, then the ambient set. An ambient capability
    /// that is not both permitted and inheritable cannot be raised; the kernel refuses it and it
    /// is left out, as runc does.
    func apply() throws {
        let known: UInt64 = CapabilitySets.lastCapability() >= 63 ? .max : (1 << UInt64(CapabilitySets.lastCapability() + 1)) - 1
        try check(berth_capset(effective & known, permitted & known, inheritable & known), "set capabilities")
        _ = berth_prctl(CapabilitySets.prCapAmbient, CapabilitySets.prCapAmbientClearAll, 0, 0, 0)
        for cap in 0...CapabilitySets.lastCapability() where ambient & (1 << UInt64(cap)) != 0 {
            if berth_prctl(CapabilitySets.prCapAmbient, CapabilitySets.prCapAmbientRaise, UInt(cap), 0, 0) != 0 && errno != EPERM {
                throw RuntimeError.errno("raise ambient capability \(CapabilitySets.name(of: cap))")
            }
        }
    }

    /// The bit of CAP_SYS_ADMIN.
    static let sysAdmin: UInt64 = 1 << 21

    /// These sets with `mask` added to effective and permitted.
    func retaining(_ mask: UInt64) -> CapabilitySets {
        var copy = self
        copy.effective |= mask
        copy.permitted |= mask
        return copy
    }

    static func name(of cap: Int) -> String { cap < names.count ? names[cap] : "\(cap)" }
}
