import BerthSystem
import Engine
import NIOHTTP1

/// `GET /containers/{id}/stats`: docker's stats object, once (`stream=0`, with `one-shot`
/// at once and without a previous reading) or every second until the container stops or the
/// client leaves.
struct StatsRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let containers = engine.containers
        let reader = try? CgroupStatsReader()
        router.add(.GET, "/containers/{id}/stats") { request, params in
            let record = try await containers.resolve(params["id"] ?? "")
            guard let reader else { throw EngineError.failure("cannot read the cgroup layout of this machine") }
            let stream = request.query("stream").map { !["0", "false"].contains($0.lowercased()) } ?? true
            let oneShot = request.flag("one-shot")
            let id = record.id
            return .stream(.ok, contentType: "application/json") { writer in
                func current() async -> (StatsSample, String, Bool) {
                    guard let now = try? await containers.resolve(id), now.state.isRunning,
                          var sample = reader.sample(pid: now.state.pid) else {
                        let name = (try? await containers.resolve(id))?.name ?? record.name
                        return (.empty(), name, false)
                    }
                    for endpoint in now.endpoints {
                        if let counters = InterfaceCounters.containerSide(ofHostInterface: endpoint.hostInterface) { sample.networks[endpoint.interface] = counters }
                    }
                    return (sample, now.name, true)
                }
                var (previous, name, running) = await current()
                if !stream {
                    if running && !oneShot {
                        try? await Task.sleep(nanoseconds: 1_000_000_000)
                        let (next, nextName, _) = await current()
                        try await writer.writeJSON(StatsBody(next, previous: previous, id: id, name: nextName))
                    } else {
                        try await writer.writeJSON(StatsBody(previous, previous: nil, id: id, name: name))
                    }
                    return
                }
                try await writer.writeJSON(StatsBody(previous, previous: nil, id: id, name: name))
                while running {
                    try await Task.sleep(nanoseconds: 1_000_000_000)
                    let (next, nextName, stillRunning) = await current()
                    try await writer.writeJSON(StatsBody(next, previous: previous, id: id, name: nextName))
                    previous = next
                    running = stillRunning
                }
            }
        }
    }
}

/// docker's stats JSON (`types.StatsJSON`).
struct StatsBody: Encodable {
    struct CPUUsage: Encodable {
        var total_usage: UInt64
        var percpu_usage: [UInt64]?
        var usage_in_kernelmode: UInt64
        var usage_in_usermode: UInt64
    }
    struct Throttling: Encodable {
        var periods: UInt64
        var throttled_periods: UInt64
        var throttled_time: UInt64
    }
    struct CPUStats: Encodable {
        var cpu_usage: CPUUsage
        var system_cpu_usage: UInt64?
        var online_cpus: Int?
        var throttling_data: Throttling

        init(_ s: StatsSample?) {
            cpu_usage = CPUUsage(total_usage: s?.cpuTotal ?? 0, percpu_usage: s?.perCPU, usage_in_kernelmode: s?.cpuSystem ?? 0, usage_in_usermode: s?.cpuUser ?? 0)
            system_cpu_usage = s.map(\.systemCPU)
            online_cpus = s.map(\.onlineCPUs)
            throttling_data = Throttling(periods: s?.throttlePeriods ?? 0, throttled_periods: s?.throttledPeriods ?? 0, throttled_time: s?.throttledTime ?? 0)
        }
    }
    struct MemoryStats: Encodable {
        var usage: UInt64?
        var max_usage: UInt64?
        var stats: [String: UInt64]?
        var limit: UInt64?
    }
    struct PidsStats: Encodable {
        var current: UInt64?
        var limit: UInt64?
    }
    struct BlkioEntry: Encodable {
        var major: UInt64
        var minor: UInt64
        var op: String
        var value: UInt64
    }
    struct BlkioStats: Encodable {
        var io_service_bytes_recursive: [BlkioEntry]?
        var io_serviced_recursive: [BlkioEntry]? = nil
        var io_queue_recursive: [BlkioEntry]? = nil
        var io_service_time_recursive: [BlkioEntry]? = nil
        var io_wait_time_recursive: [BlkioEntry]? = nil
        var io_merged_recursive: [BlkioEntry]? = nil
        var io_time_recursive: [BlkioEntry]? = nil
        var sectors_recursive: [BlkioEntry]? = nil
    }

    var name: String
    var id: String
    var read: String
    var preread: String
    var pids_stats: PidsStats
    var blkio_stats: BlkioStats
    var num_procs = 0
    var storage_stats: [String: UInt64] = [:]
    var cpu_stats: CPUStats
    var precpu_stats: CPUStats
    var memory_stats: MemoryStats
    /// By interface; absent for a container without a network of its own (as docker's).
    var networks: [String: NetworkStats]?

    struct NetworkStats: Encodable {
        var rx_bytes: UInt64
        var rx_packets: UInt64
        var rx_errors: UInt64
        var rx_dropped: UInt64
        var tx_bytes: UInt64
        var tx_packets: UInt64
        var tx_errors: UInt64
        var tx_dropped: UInt64

        init(_ c: InterfaceCounters) {
            rx_bytes = c.rxBytes
            rx_packets = c.rxPackets
            rx_errors = c.rxErrors
            rx_dropped = c.rxDropped
            tx_bytes = c.txBytes
            tx_packets = c.txPackets
            tx_errors = c.txErrors
            tx_dropped = c.txDropped
        }
    }

    init(_ sample: StatsSample, previous: StatsSample?, id: String, name: String) {
        self.name = "/" + name
        self.id = id
        read = sample.read.rfc3339Nano
        preread = (previous?.read ?? .zero).rfc3339Nano
        let measured = sample.onlineCPUs > 0
        pids_stats = measured ? PidsStats(current: sample.pids, limit: sample.pidsLimit) : PidsStats()
        blkio_stats = BlkioStats(io_service_bytes_recursive: measured ? sample.blockIO.map { BlkioEntry(major: $0.major, minor: $0.minor, op: $0.op, value: $0.value) } : nil)
        cpu_stats = CPUStats(measured ? sample : nil)
        precpu_stats = CPUStats(previous.flatMap { $0.onlineCPUs > 0 ? $0 : nil })
        memory_stats = measured
            ? MemoryStats(usage: sample.memoryUsage, max_usage: sample.memoryMaxUsage, stats: sample.memoryStats, limit: sample.memoryLimit)
            : MemoryStats()
        networks = sample.networks.isEmpty ? nil : sample.networks.mapValues(NetworkStats.init)
    }
}
