import OCI

/// Writes `linux.resources` (config-linux.md "Control groups") into cgroup control files.
enum CgroupResources {
    /// Devices every container may use whatever its rules say, as runc allows them: mknod of
    /// any node, the default devices (null, zero, full, random, urandom, tty, console, ptmx)
    /// and the pseudo-terminals (major 136).
    static let implicitDeviceRules: [RuntimeSpec.DeviceRule] = [
        .init(allow: true, type: "c", access: "m"), .init(allow: true, type: "b", access: "m"),
        .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"), .init(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 7, access: "rwm"), .init(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 9, access: "rwm"), .init(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        .init(allow: true, type: "c", major: 5, minor: 1, access: "rwm"), .init(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        .init(allow: true, type: "c", major: 136, access: "rwm"),
    ]

    /// cgroup v1: each resource goes to the hierarchy with its controller.
    static func applyV1(_ resources: RuntimeSpec.Resources, directory: (String) -> String?) throws {
        if let memory = resources.memory, let dir = directory("memory") {
            if let limit = memory.limit { try CgroupFile.write(dir + "/memory.limit_in_bytes", "\(limit)") }
            if let swappiness = memory.swappiness {
                guard swappiness <= 100 else {
                    throw RuntimeError.invalidConfig("linux.resources.memory.swappiness \(swappiness) is not between 0 and 100")
                }
                try CgroupFile.write(dir + "/memory.swappiness", "\(swappiness)")
            }
            if memory.disableOOMKiller == true { try CgroupFile.write(dir + "/memory.oom_control", "1") }
            if let reservation = memory.reservation { try CgroupFile.write(dir + "/memory.soft_limit_in_bytes", "\(reservation)") }
            if let swap = memory.swap {
                let file = dir + "/memory.memsw.limit_in_bytes"
                if CgroupFile.exists(file) {
                    try CgroupFile.write(file, "\(swap)")
                } else if swap > 0 && swap != memory.limit {
                    throw RuntimeError.unsupported("a swap limit (linux.resources.memory.swap) without swap accounting in the kernel")
                }
            }
        }
        if let cpu = resources.cpu {
            if let dir = directory("cpu") {
                if let shares = cpu.shares, shares > 0 { try CgroupFile.write(dir + "/cpu.shares", "\(shares)") }
                if let period = cpu.period, period > 0 { try CgroupFile.write(dir + "/cpu.cfs_period_us", "\(period)") }
                if let quota = cpu.quota, quota != 0 { try CgroupFile.write(dir + "/cpu.cfs_quota_us", "\(quota)") }
            }
            if let cpus = cpu.cpus, !cpus.isEmpty, let dir = directory("cpuset") {
                try CgroupFile.write(dir + "/cpuset.cpus", cpus)
            }
        }
        if let pids = resources.pids, let dir = directory("pids") {
            try CgroupFile.write(dir + "/pids.max", pids.limit > 0 ? "\(pids.limit)" : "max")
        }
        if let rules = resources.devices, let dir = directory("devices") {
            for rule in rules {
                try CgroupFile.write(dir + (rule.allow ? "/devices.allow" : "/devices.deny"), deviceRule(rule))
            }
            for rule in implicitDeviceRules {
                try CgroupFile.write(dir + "/devices.allow", deviceRule(rule))
            }
        }
    }

    /// cgroup v2: one directory with every controller. Device rules are an eBPF program
    /// (`DeviceFilter`), attached by `ContainerCgroup.create`. v2 has no per-cgroup swappiness
    /// and no switch for the OOM killer; as runc, those two are left to the kernel's defaults.
    static func applyV2(_ resources: RuntimeSpec.Resources, to dir: String) throws {
        if let memory = resources.memory {
            if let limit = memory.limit { try CgroupFile.write(dir + "/memory.max", limit > 0 ? "\(limit)" : "max") }
            if let reservation = memory.reservation { try CgroupFile.write(dir + "/memory.low", "\(reservation)") }
            if let swap = memory.swap {
                // OCI's swap is memory+swap; cgroup2's memory.swap.max is swap alone.
                let value = swap < 0 ? "max" : "\(max(0, swap - (memory.limit ?? 0)))"
                if CgroupFile.exists(dir + "/memory.swap.max") { try CgroupFile.write(dir + "/memory.swap.max", value) }
            }
        }
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares > 0 {
                // The conversion runc and crun use from v1 shares [2, 262144] to weight [1, 10000].
                let weight = 1 + ((max(2, min(shares, 262_144)) - 2) * 9999) / 262_142
                try CgroupFile.write(dir + "/cpu.weight", "\(weight)")
            }
            if cpu.quota != nil || cpu.period != nil {
                let quota = cpu.quota.map { $0 > 0 ? "\($0)" : "max" } ?? "max"
                try CgroupFile.write(dir + "/cpu.max", "\(quota) \(cpu.period ?? 100_000)")
            }
            if let cpus = cpu.cpus, !cpus.isEmpty { try CgroupFile.write(dir + "/cpuset.cpus", cpus) }
        }
        if let pids = resources.pids {
            try CgroupFile.write(dir + "/pids.max", pids.limit > 0 ? "\(pids.limit)" : "max")
        }
    }

    /// `type major:minor access` as devices.allow/deny take it; `a` alone for all devices.
    static func deviceRule(_ rule: RuntimeSpec.DeviceRule) -> String {
        let type = rule.type ?? "a"
        let access = rule.access ?? "rwm"
        if type == "a" && rule.major == nil && rule.minor == nil { return "a *:* \(access)" }
        let major = rule.major.map { $0 < 0 ? "*" : "\($0)" } ?? "*"
        let minor = rule.minor.map { $0 < 0 ? "*" : "\($0)" } ?? "*"
        return "\(type) \(major):\(minor) \(access)"
    }
}
