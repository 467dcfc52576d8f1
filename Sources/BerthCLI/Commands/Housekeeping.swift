import FoundationEssentials
import ArgumentParser
import BerthSystem

/// `berth update`: change the limits and restart policy of containers.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update configuration of one or more containers")

    @Option(name: .long, help: "Number of CPUs") var cpus: String?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: "CPU shares (relative weight)") var cpuShares: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs in which to allow execution (0-3, 0,1)") var cpusetCpus: String?
    @Option(name: .shortAndLong, help: "Memory limit") var memory: String?
    @Option(name: .customLong("memory-swap"), help: "Swap limit equal to memory plus swap: -1 to enable unlimited swap") var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit") var memoryReservation: String?
    @Option(name: .customLong("pids-limit"), help: "Tune container pids limit (set -1 for unlimited)") var pidsLimit: Int64?
    @Option(name: .long, help: "Restart policy to apply when a container exits") var restart: String?
    @Argument(help: "Containers") var containers: [String]

    func run() throws {
        struct Body: Encodable {
            var cpuShares: Int64?
            var memory: Int64?
            var memorySwap: Int64?
            var memoryReservation: Int64?
            var nanoCpus: Int64?
            var cpusetCpus: String?
            var pidsLimit: Int64?
            var restartPolicy: RestartPolicyBody?
        }
        func bytes(_ text: String?, _ flag: String) throws -> Int64? { try ByteSize.flag(text, flag, command: "update") }
        var body = Body(cpuShares: cpuShares, memory: try bytes(memory, "-m, --memory"), memorySwap: try bytes(memorySwap, "--memory-swap"),
                        memoryReservation: try bytes(memoryReservation, "--memory-reservation"), cpusetCpus: cpusetCpus, pidsLimit: pidsLimit)
        if let cpus { body.nanoCpus = try CPUCount.parseNanoCPUs(cpus) }
        if let restart { body.restartPolicy = try RestartPolicyBody.parse(restart, commandName: "update") }
        let client = try Berth.client()
        let payload = try DaemonClient.json(body)
        try ContainerBatch.apply(containers) { name in
            try client.call("POST", "/containers/\(Query.escapePath(name))/update", body: payload)
            try Console.out(name + "\n")
        }
    }
}

/// What the prune endpoints answer.
struct PruneReport: Decodable {
    var containersDeleted: [String]?
    var imagesDeleted: [ImageDeleteItem]?
    var volumesDeleted: [String]?
    var spaceReclaimed: Int64?
}

/// The prune commands' shared flags and output.
struct PruneOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false
    @Option(name: .long, help: "Provide filter values (e.g. \"until=<timestamp>\")") var filter: [String] = []

    /// Asks (unless `--force`), posts to `path` and prints docker's report.
    func prune(_ path: String, warning: String, extraFilters: [String] = []) throws {
        if !force {
            guard Confirmation.ask("WARNING! This will remove \(warning).\nAre you sure you want to continue? [y/N] ") else { return }
        }
        let report = try post(path, extraFilters: extraFilters)
        try Console.out(Self.describe(report) + "Total reclaimed space: \(ByteSize.humanSize(report.spaceReclaimed ?? 0))\n")
    }

    func post(_ path: String, extraFilters: [String] = []) throws -> PruneReport {
        var query = Query()
        if let encoded = try FilterArgument.encode(filter + extraFilters) { query.add("filters", encoded) }
        return try Berth.client().decode(PruneReport.self, "POST", path, query: query)
    }

    static func describe(_ report: PruneReport) -> String {
        var out = ""
        if let ids = report.containersDeleted, !ids.isEmpty { out += "Deleted Containers:\n" + ids.map { $0 + "\n" }.joined() + "\n" }
        if let names = report.volumesDeleted, !names.isEmpty { out += "Deleted Volumes:\n" + names.map { $0 + "\n" }.joined() + "\n" }
        if let items = report.imagesDeleted, !items.isEmpty {
            out += "Deleted Images:\n"
            for item in items {
                if let untagged = item.untagged { out += "untagged: \(untagged)\n" }
                if let deleted = item.deleted { out += "deleted: \(deleted)\n" }
            }
            out += "\n"
        }
        return out
    }
}

/// `berth container prune`.
struct ContainerPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all stopped containers")
    @OptionGroup var options: PruneOptions
    func run() throws { try options.prune("/containers/prune", warning: "all stopped containers") }
}

/// `berth image prune`.
struct ImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused images")
    @Flag(name: .shortAndLong, help: "Remove all unused images, not just dangling ones") var all = false
    @OptionGroup var options: PruneOptions
    func run() throws {
        try options.prune("/images/prune", warning: all ? "all images without at least one container associated to them" : "all dangling images",
                          extraFilters: all ? ["dangling=false"] : [])
    }
}

/// `berth system …`.
struct SystemGroup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "system", abstract: "Manage Berth",
                                                    subcommands: [SystemDiskUsage.self, SystemPrune.self, Info.self, Events.self])
}

/// `berth system prune`.
struct SystemPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused data")
    @Flag(name: .shortAndLong, help: "Remove all unused images not just dangling ones") var all = false
    @Flag(name: .long, help: "Prune anonymous volumes") var volumes = false
    @OptionGroup var options: PruneOptions

    func run() throws {
        if !options.force {
            var items = ["all stopped containers"]
            if volumes { items.append("all anonymous volumes not used by at least one container") }
            items.append(all ? "all images without at least one container associated to them" : "all dangling images")
            let prompt = "WARNING! This will remove:\n" + items.map { "  - \($0)\n" }.joined() + "\nAre you sure you want to continue? [y/N] "
            guard Confirmation.ask(prompt) else { return }
        }
        var total: Int64 = 0
        var out = ""
        var reports = [try options.post("/containers/prune")]
        if volumes { reports.append(try options.post("/volumes/prune")) }
        reports.append(try options.post("/images/prune", extraFilters: all ? ["dangling=false"] : []))
        for report in reports {
            out += PruneOptions.describe(report)
            total += report.spaceReclaimed ?? 0
        }
        try Console.out(out + "Total reclaimed space: \(ByteSize.humanSize(total))\n")
    }
}

/// `berth system df`.
struct SystemDiskUsage: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "df", abstract: "Show Berth disk usage")

    func run() throws {
        struct Usage: Decodable {
            struct Image: Decodable { var size: Int64?; var containers: Int? }
            struct Container: Decodable { var sizeRw: Int64?; var state: String? }
            struct Volume: Decodable {
                struct Data: Decodable { var size: Int64?; var refCount: Int? }
                var usageData: Data?
            }
            var layersSize: Int64?
            var images: [Image]?
            var containers: [Container]?
            var volumes: [Volume]?
        }
        let usage = try Berth.client().decode(Usage.self, "GET", "/system/df")
        let images = usage.images ?? []
        let activeImages = images.filter { ($0.containers ?? 0) > 0 }
        let imageSize = usage.layersSize ?? 0
        let reclaimableImages = max(0, imageSize - activeImages.reduce(0) { $0 + ($1.size ?? 0) })
        let containers = usage.containers ?? []
        let containerSize = containers.reduce(0) { $0 + ($1.sizeRw ?? 0) }
        let stoppedSize = containers.filter { $0.state != "running" }.reduce(0) { $0 + ($1.sizeRw ?? 0) }
        let volumes = usage.volumes ?? []
        let volumeSize = volumes.reduce(0) { $0 + max(0, $1.usageData?.size ?? 0) }
        let unusedVolumeSize = volumes.filter { ($0.usageData?.refCount ?? 0) == 0 }.reduce(0) { $0 + max(0, $1.usageData?.size ?? 0) }
        func percent(_ part: Int64, _ whole: Int64) -> String {
            whole > 0 ? " (\(Int(Double(part) * 100 / Double(whole)))%)" : ""
        }
        var table = Table(header: ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"])
        table.append(["Images", "\(images.count)", "\(activeImages.count)", ByteSize.humanSize(imageSize),
                      ByteSize.humanSize(reclaimableImages) + percent(reclaimableImages, imageSize)])
        table.append(["Containers", "\(containers.count)", "\(containers.filter { $0.state == "running" }.count)", ByteSize.humanSize(containerSize),
                      ByteSize.humanSize(stoppedSize) + percent(stoppedSize, containerSize)])
        table.append(["Local Volumes", "\(volumes.count)", "\(volumes.filter { ($0.usageData?.refCount ?? 0) > 0 }.count)", ByteSize.humanSize(volumeSize),
                      ByteSize.humanSize(unusedVolumeSize) + percent(unusedVolumeSize, volumeSize)])
        table.append(["Build Cache", "0", "0", "0B", "0B"])
        try Console.out(table.rendered)
    }
}

/// `berth events`: the daemon's events as docker prints them, until `--until` or interrupted.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Get real time events from the server")
    @Option(name: .long, help: "Show all events created since timestamp (Unix seconds, RFC 3339, or a duration such as 10m)") var since: String?
    @Option(name: .long, help: "Stream events until this timestamp") var until: String?
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided") var filter: [String] = []
    @Option(name: .long, help: "Format the output: {{json .}} or a template such as {{.Type}} {{.Action}}") var format: String?

    func run() throws {
        var query = Query()
        if let since { query.add("since", try Self.unixTime(since)) }
        if let until { query.add("until", try Self.unixTime(until)) }
        if let encoded = try FilterArgument.encode(filter) { query.add("filters", encoded) }
        let template = try format.map { try InspectTemplate($0 == "json" ? "{{json .}}" : $0) }
        try Berth.client().send("GET", "/events", query: query).body.forEachLine { line in
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0d }) else { return }
            if let template {
                try Console.out(template.render(line) + "\n")
                return
            }
            struct Event: Decodable {
                struct Actor: Decodable { var iD: String?; var attributes: [String: String]? }
                var type: String?
                var action: String?
                var actor: Actor?
                var timeNano: Int64?
            }
            let event = try DaemonClient.decodeJSON(Event.self, from: line, what: "event")
            let nanos = event.timeNano ?? 0
            let time = Timestamp(seconds: nanos / 1_000_000_000, nanoseconds: nanos % 1_000_000_000).rfc3339Nano
            let attributes = (event.actor?.attributes ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            try Console.out("\(time) \(event.type ?? "") \(event.action ?? "") \(event.actor?.iD ?? "")\(attributes.isEmpty ? "" : " (\(attributes))")\n")
        }
    }

    /// docker's time arguments as Unix seconds: a number as is, RFC 3339, or a duration ago.
    static func unixTime(_ text: String) throws -> String {
        if Double(text) != nil { return text }
        if let time = Timestamp(rfc3339: text) { return "\(time.seconds)" }
        if let ago = GoDuration.nanoseconds(text) {
            let now = Timestamp.now()
            return "\(now.seconds - ago / 1_000_000_000)"
        }
        throw CLIError.failed("invalid time \"\(text)\": use Unix seconds, RFC 3339 or a duration such as 10m")
    }
}

/// `berth stats`: CPU, memory, block I/O and pids of running containers, once (`--no-stream`)
/// or refreshed every second, computed from the daemon's readings as docker computes them.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Display a live stream of container(s) resource usage statistics")
    @Flag(name: .customLong("no-stream"), help: "Disable streaming stats and only pull the first result") var noStream = false
    @Flag(name: .customLong("no-trunc"), help: "Do not truncate output") var noTrunc = false
    @Argument(help: "Containers (default: all running)") var containers: [String] = []

    struct Reading: Decodable {
        struct CPU: Decodable {
            struct Usage: Decodable { var totalUsage: Int64? }
            var cpuUsage: Usage?
            var systemCpuUsage: Int64?
            var onlineCpus: Int?
        }
        struct Memory: Decodable {
            var usage: Int64?
            var limit: Int64?
            var stats: [String: Int64]?
        }
        struct Pids: Decodable { var current: Int64? }
        struct Blkio: Decodable {
            struct Entry: Decodable { var op: String?; var value: Int64? }
            var ioServiceBytesRecursive: [Entry]?
        }
        var id: String?
        var name: String?
        var cpuStats: CPU?
        var precpuStats: CPU?
        var memoryStats: Memory?
        var pidsStats: Pids?
        var blkioStats: Blkio?
    }

    func run() throws {
        let client = try Berth.client()
        var names = containers
        if names.isEmpty {
            names = try client.decode([ContainerSummary].self, "GET", "/containers/json").map(\.id)
        }
        repeat {
            var table = Table(header: ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"])
            for name in names {
                var query = Query()
                query.add("stream", "0")
                let bytes = try client.call("GET", "/containers/\(Query.escapePath(name))/stats", query: query)
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                let reading = try decoder.decode(Reading.self, from: Data(bytes))
                table.append(Self.row(reading, truncate: !noTrunc))
            }
            try Console.out((noStream ? "" : "\u{1b}[2J\u{1b}[H") + table.rendered)
        } while !noStream
    }

    /// `12.34%`, as docker's `%.2f%%`.
    static func percent(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = String(hundredths % 100)
        return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)%"
    }

    static func row(_ r: Reading, truncate: Bool) -> [String] {
        let cpuDelta = Double((r.cpuStats?.cpuUsage?.totalUsage ?? 0) - (r.precpuStats?.cpuUsage?.totalUsage ?? 0))
        let systemDelta = Double((r.cpuStats?.systemCpuUsage ?? 0) - (r.precpuStats?.systemCpuUsage ?? 0))
        let cpus = Double(r.cpuStats?.onlineCpus ?? 1)
        let cpu = systemDelta > 0 && cpuDelta > 0 ? cpuDelta / systemDelta * cpus * 100 : 0
        let stats = r.memoryStats?.stats ?? [:]
        let usage = (r.memoryStats?.usage ?? 0) - (stats["total_inactive_file"] ?? stats["inactive_file"] ?? 0)
        let limit = r.memoryStats?.limit ?? 0
        let memoryPercent = limit > 0 ? Double(usage) / Double(limit) * 100 : 0
        let entries = r.blkioStats?.ioServiceBytesRecursive ?? []
        let read = entries.filter { $0.op?.lowercased() == "read" }.reduce(0) { $0 + ($1.value ?? 0) }
        let written = entries.filter { $0.op?.lowercased() == "write" }.reduce(0) { $0 + ($1.value ?? 0) }
        let id = r.id ?? ""
        return [truncate ? String(id.prefix(12)) : id, String((r.name ?? "").drop { $0 == "/" }),
                Self.percent(cpu), "\(ByteSize.binarySize(usage)) / \(ByteSize.binarySize(limit))", Self.percent(memoryPercent),
                "0B / 0B", "\(ByteSize.humanSize(read)) / \(ByteSize.humanSize(written))", "\(r.pidsStats?.current ?? 0)"]
    }
}
