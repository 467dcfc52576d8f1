import BerthSystem
import Glibc
import Runtime

/// One reading of a container's resource use from its cgroups (v1 controllers or cgroup2),
/// in the units docker reports: nanoseconds of CPU, bytes.
public struct StatsSample: Sendable, Equatable {
    public var read: Timestamp
    public var cpuTotal: UInt64 = 0
    public var cpuUser: UInt64 = 0
    public var cpuSystem: UInt64 = 0
    /// Per-CPU usage (cgroup v1 only).
    public var perCPU: [UInt64]?
    /// CPU time of the whole machine since boot (docker's `system_cpu_usage`).
    public var systemCPU: UInt64 = 0
    public var onlineCPUs: Int = 0
    public var throttlePeriods: UInt64 = 0
    public var throttledPeriods: UInt64 = 0
    public var throttledTime: UInt64 = 0
    public var memoryUsage: UInt64 = 0
    /// Peak usage (cgroup v1 only).
    public var memoryMaxUsage: UInt64?
    public var memoryLimit: UInt64 = 0
    public var memoryStats: [String: UInt64] = [:]
    public var pids: UInt64 = 0
    public var pidsLimit: UInt64?
    /// Bytes read and written per device: (major, minor, "read" or "write", bytes).
    public var blockIO: [BlockIO] = []
    /// Traffic of the container's interfaces by name (`eth0`), as the container sees it.
    public var networks: [String: InterfaceCounters] = [:]

    public struct BlockIO: Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }

    /// A sample with nothing measured (a container that does not run), taken now.
    public static func empty() -> StatsSample { StatsSample(read: .now()) }
}

/// Packet and byte counters of one network interface.
public struct InterfaceCounters: Sendable, Equatable {
    public var rxBytes: UInt64 = 0
    public var rxPackets: UInt64 = 0
    public var rxErrors: UInt64 = 0
    public var rxDropped: UInt64 = 0
    public var txBytes: UInt64 = 0
    public var txPackets: UInt64 = 0
    public var txErrors: UInt64 = 0
    public var txDropped: UInt64 = 0

    /// The counters of a container's interface read from the host end of its veth pair
    /// (what the host end receives the container sent); nil when the link is gone.
    public static func containerSide(ofHostInterface name: String) -> InterfaceCounters? {
        let base = "/sys/class/net/\(name)/statistics/"
        func value(_ file: String) -> UInt64? {
            (try? FileSystem.readFile(base + file)).flatMap { UInt64(String(decoding: $0, as: UTF8.self).trimmed) }
        }
        guard let txBytes = value("rx_bytes") else { return nil }
        return InterfaceCounters(rxBytes: value("tx_bytes") ?? 0, rxPackets: value("tx_packets") ?? 0, rxErrors: value("tx_errors") ?? 0,
                                 rxDropped: value("tx_dropped") ?? 0, txBytes: txBytes, txPackets: value("rx_packets") ?? 0,
                                 txErrors: value("rx_errors") ?? 0, txDropped: value("rx_dropped") ?? 0)
    }
}

/// Reads `StatsSample`s for a process's cgroups: it finds them in `/proc/<pid>/cgroup` (the
/// daemon's view, so full paths) and reads the controllers' files where the layout mounts them.
public struct CgroupStatsReader: Sendable {
    let layout: CgroupLayout
    /// Bytes of memory of the machine: the limit reported when none is set (as dockerd does).
    let machineMemory: UInt64

    public init() throws {
        layout = try CgroupLayout.current()
        machineMemory = UInt64(sysconf(Int32(_SC_PHYS_PAGES))) * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The current use of the cgroups of process `pid`; nil when the process is gone.
    public func sample(pid: Int32) -> StatsSample? {
        guard pid > 0, let membership = try? FileSystem.readFile("/proc/\(pid)/cgroup") else { return nil }
        var sample = StatsSample(read: .now())
        sample.systemCPU = Self.systemCPU()
        sample.onlineCPUs = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let lines = String(decoding: membership, as: UTF8.self).split(separator: "\n")
        func directory(for controller: String?) -> String? {
            for line in lines {
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                let names = parts[1].split(separator: ",").map(String.init)
                let hierarchy = layout.hierarchies.first { h in
                    controller == nil ? (h.isUnified && parts[1].isEmpty) : (!h.isUnified && names.contains(controller!) && h.has(controller!))
                }
                if let hierarchy { return hierarchy.mountPoint + String(parts[2]) }
            }
            return nil
        }
        if layout.isPureV2 {
            guard let dir = directory(for: nil) else { return sample }
            readV2(dir, into: &sample)
        } else {
            readV1(cpuacct: directory(for: "cpuacct"), cpu: directory(for: "cpu"), memory: directory(for: "memory"),
                   pids: directory(for: "pids"), blkio: directory(for: "blkio"), into: &sample)
        }
        if sample.memoryLimit == 0 || sample.memoryLimit > machineMemory { sample.memoryLimit = machineMemory }
        return sample
    }

    private func readV1(cpuacct: String?, cpu: String?, memory: String?, pids: String?, blkio: String?, into s: inout StatsSample) {
        let tick = UInt64(1_000_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK))))
        if let cpuacct {
            s.cpuTotal = Self.number(cpuacct + "/cpuacct.usage") ?? 0
            s.perCPU = Self.text(cpuacct + "/cpuacct.usage_percpu")?.split(separator: " ").compactMap { UInt64($0) }
            let stat = Self.keyValues(cpuacct + "/cpuacct.stat")
            s.cpuUser = (stat["user"] ?? 0) * tick
            s.cpuSystem = (stat["system"] ?? 0) * tick
        }
        if let cpu {
            let stat = Self.keyValues(cpu + "/cpu.stat")
            s.throttlePeriods = stat["nr_periods"] ?? 0
            s.throttledPeriods = stat["nr_throttled"] ?? 0
            s.throttledTime = stat["throttled_time"] ?? 0
        }
        if let memory {
            s.memoryUsage = Self.number(memory + "/memory.usage_in_bytes") ?? 0
            s.memoryMaxUsage = Self.number(memory + "/memory.max_usage_in_bytes")
            s.memoryLimit = Self.number(memory + "/memory.limit_in_bytes") ?? 0
            s.memoryStats = Self.keyValues(memory + "/memory.stat")
        }
        if let pids { readPids(pids, into: &s) }
        if let blkio {
            for line in (Self.text(blkio + "/blkio.throttle.io_service_bytes_recursive") ?? "").split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let device = Self.device(fields[0]), let value = UInt64(fields[2]) else { continue }
                s.blockIO.append(.init(major: device.0, minor: device.1, op: fields[1].lowercased(), value: value))
            }
        }
    }

    private func readV2(_ dir: String, into s: inout StatsSample) {
        let cpu = Self.keyValues(dir + "/cpu.stat")
        s.cpuTotal = (cpu["usage_usec"] ?? 0) * 1000
        s.cpuUser = (cpu["user_usec"] ?? 0) * 1000
        s.cpuSystem = (cpu["system_usec"] ?? 0) * 1000
        s.throttlePeriods = cpu["nr_periods"] ?? 0
        s.throttledPeriods = cpu["nr_throttled"] ?? 0
        s.throttledTime = (cpu["throttled_usec"] ?? 0) * 1000
        s.memoryUsage = Self.number(dir + "/memory.current") ?? 0
        s.memoryLimit = Self.number(dir + "/memory.max") ?? 0
        s.memoryStats = Self.keyValues(dir + "/memory.stat")
        readPids(dir, into: &s)
        for line in (Self.text(dir + "/io.stat") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let first = fields.first, let device = Self.device(first) else { continue }
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=")
                guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                if pair[0] == "rbytes" { s.blockIO.append(.init(major: device.0, minor: device.1, op: "read", value: value)) }
                if pair[0] == "wbytes" { s.blockIO.append(.init(major: device.0, minor: device.1, op: "write", value: value)) }
            }
        }
    }

    private func readPids(_ dir: String, into s: inout StatsSample) {
        s.pids = Self.number(dir + "/pids.current") ?? 0
        s.pidsLimit = Self.number(dir + "/pids.max")
    }

    /// Total CPU time of the machine from `/proc/stat`, in nanoseconds.
    static func systemCPU() -> UInt64 {
        guard let first = text("/proc/stat")?.split(separator: "\n").first, first.hasPrefix("cpu ") else { return 0 }
        let ticks = first.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }.reduce(0, +)
        return ticks * UInt64(1_000_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK))))
    }

    private static func text(_ path: String) -> String? {
        (try? FileSystem.readFile(path)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A file holding one number (`max` and unreadable files are nil).
    private static func number(_ path: String) -> UInt64? {
        text(path).flatMap { UInt64($0.trimmed) }
    }

    /// `key value` lines.
    private static func keyValues(_ path: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in (text(path) ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = UInt64(fields[1]) { result[String(fields[0])] = value }
        }
        return result
    }

    /// `major:minor`.
    private static func device(_ text: Substring) -> (UInt64, UInt64)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let major = UInt64(parts[0]), let minor = UInt64(parts[1]) else { return nil }
        return (major, minor)
    }
}
