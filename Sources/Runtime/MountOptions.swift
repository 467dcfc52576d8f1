import Glibc

/// mount(2) flag values (linux/mount.h), typed for `Glibc.mount`.
enum MountFlag {
    static let readOnly: UInt = 0x1
    static let noSuid: UInt = 0x2
    static let noDev: UInt = 0x4
    static let noExec: UInt = 0x8
    static let synchronous: UInt = 0x10
    static let remount: UInt = 0x20
    static let mandatoryLock: UInt = 0x40
    static let dirSync: UInt = 0x80
    static let noAtime: UInt = 0x400
    static let noDirAtime: UInt = 0x800
    static let bind: UInt = 0x1000
    static let recursive: UInt = 0x4000
    static let unbindable: UInt = 0x20000
    static let `private`: UInt = 0x40000
    static let slave: UInt = 0x80000
    static let shared: UInt = 0x100000
    static let relAtime: UInt = 0x200000
    static let strictAtime: UInt = 0x1000000
}

/// A mount's `options` (config.md "Mounts") split into mount(2) flags, propagation changes
/// (applied by separate mount calls) and the file-system-specific data string.
struct MountOptions: Equatable {
    var flags: UInt = 0
    var propagation: [UInt] = []
    var data: [String] = []
    /// `MOUNT_ATTR_*` bits the recursive options (`rro`, `rnosuid`, `rnodev`, `rnoexec`) set on
    /// the mount and every mount below it, and the ones `rrw`, `rsuid`, `rdev`, `rexec` clear.
    var recursiveSet: UInt64 = 0
    var recursiveClear: UInt64 = 0

    var isBind: Bool { flags & MountFlag.bind != 0 }
    var dataString: String? { data.isEmpty ? nil : data.joined(separator: ",") }

    /// Flags that need a remount to take effect on a bind mount.
    var remountFlags: UInt { flags & ~(MountFlag.bind | MountFlag.recursive | MountFlag.remount) }

    private static let setting: [String: UInt] = [
        "ro": MountFlag.readOnly, "nosuid": MountFlag.noSuid, "nodev": MountFlag.noDev,
        "noexec": MountFlag.noExec, "sync": MountFlag.synchronous, "remount": MountFlag.remount,
        "mand": MountFlag.mandatoryLock, "dirsync": MountFlag.dirSync, "noatime": MountFlag.noAtime,
        "nodiratime": MountFlag.noDirAtime, "bind": MountFlag.bind,
        "rbind": MountFlag.bind | MountFlag.recursive, "relatime": MountFlag.relAtime,
        "strictatime": MountFlag.strictAtime,
    ]
    private static let clearing: [String: UInt] = [
        "rw": MountFlag.readOnly, "suid": MountFlag.noSuid, "dev": MountFlag.noDev,
        "exec": MountFlag.noExec, "async": MountFlag.synchronous, "nomand": MountFlag.mandatoryLock,
        "atime": MountFlag.noAtime, "diratime": MountFlag.noDirAtime, "norelatime": MountFlag.relAtime,
        "nostrictatime": MountFlag.strictAtime,
    ]
    static let propagationFlags: [String: UInt] = [
        "private": MountFlag.private, "rprivate": MountFlag.private | MountFlag.recursive,
        "shared": MountFlag.shared, "rshared": MountFlag.shared | MountFlag.recursive,
        "slave": MountFlag.slave, "rslave": MountFlag.slave | MountFlag.recursive,
        "unbindable": MountFlag.unbindable, "runbindable": MountFlag.unbindable | MountFlag.recursive,
    ]

    /// runc's recursive mount attributes (mount_setattr(2) with AT_RECURSIVE).
    private static let recursiveAttributes: [String: (set: UInt64, clear: UInt64)] = [
        "rro": (0x1, 0), "rnosuid": (0x2, 0), "rnodev": (0x4, 0), "rnoexec": (0x8, 0),
        "rrw": (0, 0x1), "rsuid": (0, 0x2), "rdev": (0, 0x4), "rexec": (0, 0x8),
    ]

    init(_ options: [String]) {
        for option in options {
            if let attribute = MountOptions.recursiveAttributes[option] {
                recursiveSet = (recursiveSet | attribute.set) & ~attribute.clear
                recursiveClear = (recursiveClear | attribute.clear) & ~attribute.set
            } else if let flag = MountOptions.setting[option] {
                flags |= flag
            } else if let flag = MountOptions.clearing[option] {
                flags &= ~flag
            } else if let flag = MountOptions.propagationFlags[option] {
                propagation.append(flag)
            } else if option != "defaults" {
                data.append(option)
            }
        }
    }
}
