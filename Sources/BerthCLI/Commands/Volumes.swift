#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser

/// `berth volume …`: docker's volume commands.
struct VolumeGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage volumes",
        subcommands: [VolumeCreate.self, VolumeList.self, VolumeInspect.self, VolumeRemove.self, VolumePrune.self])
}

/// A volume as the daemon sends it.
struct VolumeRow: Codable {
    var createdAt: String?
    var driver: String?
    var labels: [String: String]?
    var mountpoint: String?
    var name: String
    var options: [String: String]?
    var scope: String?
}

/// `KEY=VALUE` arguments (`--label`, `--opt`) as a map; a bare `KEY` has an empty value.
enum KeyValueArguments {
    static func map(_ items: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            result[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        return result
    }
}

/// `berth volume create [NAME]`.
struct VolumeCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume")

    @Option(name: .shortAndLong, help: "Specify volume driver name")
    var driver = "local"

    @Option(name: .long, help: "Set metadata for a volume")
    var label: [String] = []

    @Option(name: .shortAndLong, help: "Set driver specific options")
    var opt: [String] = []

    @Option(name: .long, help: "Specify volume name")
    var name: String?

    @Argument(help: "Volume name")
    var volume: String?

    func run() throws {
        if let name, let volume, name != volume {
            throw CLIError.usage(command: "volume create", message: "conflicting options: either specify --name or provide positional arg, not both")
        }
        struct Body: Encodable {
            var name: String
            var driver: String
            var driverOpts: [String: String]
            var labels: [String: String]
        }
        let body = Body(name: volume ?? name ?? "", driver: driver, driverOpts: KeyValueArguments.map(opt), labels: KeyValueArguments.map(label))
        let created = try Berth.client().decode(VolumeRow.self, "POST", "/volumes/create", body: try DaemonClient.json(body))
        try Console.out(created.name + "\n")
    }
}

/// `berth volume ls`.
struct VolumeList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes", aliases: ["list"])

    @Flag(name: .shortAndLong, help: "Only display volume names")
    var quiet = false

    @Option(name: .shortAndLong, help: "Provide filter values (e.g. \"dangling=true\")")
    var filter: [String] = []

    @Option(name: .long, help: "Format output using a template: {{.Name}}, {{json .}}")
    var format: String?

    func run() throws {
        struct List: Decodable { var volumes: [VolumeRow]? }
        var query = Query()
        if let encoded = try FilterArgument.encode(filter) { query.add("filters", encoded) }
        let volumes = (try Berth.client().decode(List.self, "GET", "/volumes", query: query).volumes ?? []).sorted { $0.name < $1.name }
        if quiet {
            try Console.out(volumes.map { $0.name + "\n" }.joined())
            return
        }
        if let format, !format.hasPrefix("table") {
            let template = try InspectTemplate(format)
            try Console.out(try volumes.map { template.render(Array(try APICoding.encoder.encode($0))) + "\n" }.joined())
            return
        }
        var table = Table(header: ["DRIVER", "VOLUME NAME"], minWidth: 0, padding: 5)
        for volume in volumes { table.append([volume.driver ?? "local", volume.name]) }
        try Console.out(table.rendered)
    }
}

/// `berth volume inspect NAME…`.
struct VolumeInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more volumes")

    @Option(name: .shortAndLong, help: "Format output using a template: {{.Field}} or {{json .Field}}")
    var format: String?

    @Argument(help: "Volume names")
    var volumes: [String]

    func run() throws {
        let client = try Berth.client()
        try Inspect.printObjects(volumes, format: format, missing: { "Error response from daemon: get \($0): no such volume" }) { name in
            do {
                return try client.call("GET", "/volumes/\(Query.escapePath(name))")
            } catch CLIError.daemon(let status, _) where status == 404 {
                return nil
            }
        }
    }
}

/// `berth volume rm NAME…`.
struct VolumeRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more volumes", aliases: ["remove"])

    @Flag(name: .shortAndLong, help: "Force the removal of one or more volumes")
    var force = false

    @Argument(help: "Volume names")
    var volumes: [String]

    func run() throws {
        let client = try Berth.client()
        var query = Query()
        query.add("force", flag: force)
        try ContainerBatch.apply(volumes) { name in
            try client.call("DELETE", "/volumes/\(Query.escapePath(name))", query: query)
            try Console.out(name + "\n")
        }
    }
}

/// `berth volume prune`: removes unused anonymous volumes (all unused ones with `--all`).
struct VolumePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused local volumes")

    @Flag(name: .shortAndLong, help: "Remove all unused volumes, not just anonymous ones")
    var all = false

    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false

    @Option(name: .long, help: "Provide filter values (e.g. \"label=<label>\")")
    var filter: [String] = []

    func run() throws {
        struct Pruned: Decodable {
            var volumesDeleted: [String]?
            var spaceReclaimed: Int64?
        }
        if !force {
            let what = all ? "all volumes not used by at least one container" : "all anonymous local volumes not used by at least one container"
            guard Confirmation.ask("WARNING! This will remove \(what).\nAre you sure you want to continue? [y/N] ") else { return }
        }
        var filters = filter
        if all { filters.append("all=true") }
        var query = Query()
        if let encoded = try FilterArgument.encode(filters) { query.add("filters", encoded) }
        let pruned = try Berth.client().decode(Pruned.self, "POST", "/volumes/prune", query: query)
        var out = ""
        if let deleted = pruned.volumesDeleted, !deleted.isEmpty {
            out += "Deleted Volumes:\n" + deleted.map { $0 + "\n" }.joined() + "\n"
        }
        out += "Total reclaimed space: \(ByteSize.humanSize(pruned.spaceReclaimed ?? 0))\n"
        try Console.out(out)
    }
}

/// A yes/no question on the terminal, as docker's prune commands ask it.
enum Confirmation {
    /// Prints `prompt` and reads a line from standard input: true for `y`/`yes`.
    static func ask(_ prompt: String) -> Bool {
        Console.err(prompt)
        guard let line = readLine() else { return false }
        return ["y", "yes"].contains(line.trimmingCharacters(in: " \t\r").lowercased())
    }
}
