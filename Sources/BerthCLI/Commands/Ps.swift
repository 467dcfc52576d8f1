import ArgumentParser
import BerthSystem
import FoundationEssentials
import Glibc

/// `berth ps`: list containers.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers")

    @Flag(name: .shortAndLong, help: "Show all containers (default shows just running)")
    var all = false

    @Flag(name: .shortAndLong, help: "Only display container IDs")
    var quiet = false

    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false

    @Option(name: .shortAndLong, help: "Filter output based on conditions provided (key=value)")
    var filter: [String] = []

    @Option(name: [.customShort("n"), .long], help: "Show n last created containers (includes all states)")
    var last: Int?

    @Flag(name: .shortAndLong, help: "Show the latest created container (includes all states)")
    var latest = false

    @Option(name: .long, help: "Format output using a template: {{.ID}} {{.Names}}, 'table {{.ID}}\\t{{.Status}}' or {{json .}}")
    var format: String?

    func run() throws {
        var query = Query()
        query.add("all", flag: all)
        if let limit = latest ? 1 : last, limit > 0 { query.add("limit", String(limit)) }
        if let filters = try FilterArgument.encode(filter) { query.add("filters", filters) }
        let containers = try Berth.client().decode([ContainerSummary].self, "GET", "/containers/json", query: query)
        if quiet {
            try Console.out(containers.map { (noTrunc ? $0.id : Text.shortID($0.id)) + "\n" }.joined())
            return
        }
        let now = Int64(time(nil))
        if let format {
            let headers = ["ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED", "CreatedAt": "CREATED AT",
                           "Status": "STATUS", "State": "STATE", "Ports": "PORTS", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS"]
            let rows = containers.map { c -> [String: String] in
                let row = ListFormat.containerRow(c, now: now, truncate: !noTrunc)
                return ["ID": row[0], "Image": row[1], "Command": row[2], "RunningFor": row[3], "Status": row[4], "Ports": row[5], "Names": row[6],
                        "State": c.state ?? "", "CreatedAt": c.created.map { Timestamp(seconds: $0).rfc3339 } ?? "",
                        "Labels": (c.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                        "Mounts": (c.mounts ?? []).map { $0.name ?? $0.source ?? "" }.joined(separator: ",")]
            }
            try Console.out(try RowFormat(format, headers: headers).render(rows))
            return
        }
        var table = Table(header: ListFormat.containerHeader)
        for container in containers {
            table.append(ListFormat.containerRow(container, now: now, truncate: !noTrunc))
        }
        try Console.out(table.rendered)
    }
}

/// `--filter key=value` flags as the API's `filters` JSON: `{"key":{"value":true}}`.
enum FilterArgument {
    /// The JSON text for `filters`, or nil when there are none.
    static func encode(_ filters: [String]) throws -> String? {
        guard !filters.isEmpty else { return nil }
        var map: [String: [String: Bool]] = [:]
        for filter in filters {
            guard let equals = filter.firstIndex(of: "=") else {
                throw CLIError.usage(command: "", message: "bad format of filter (expected name=value)")
            }
            map[String(filter[..<equals]), default: [:]][String(filter[filter.index(after: equals)...])] = true
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(map), as: UTF8.self)
    }
}
