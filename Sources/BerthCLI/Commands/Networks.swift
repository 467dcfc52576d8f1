#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser

/// `berth network …`: docker's network commands.
struct NetworkGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage networks",
        subcommands: [NetworkCreate.self, NetworkList.self, NetworkInspect.self, NetworkRemove.self, NetworkPrune.self,
                      NetworkConnect.self, NetworkDisconnect.self])
}

/// A network as the daemon sends it (the fields the list shows).
struct NetworkRow: Codable {
    var name: String
    var id: String
    var driver: String?
    var scope: String?
}

/// `berth network create NAME`.
struct NetworkCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a network")

    @Option(name: .shortAndLong, help: "Driver to manage the Network")
    var driver = "bridge"

    @Option(name: .long, help: "Subnet in CIDR format that represents a network segment")
    var subnet: [String] = []

    @Option(name: .long, help: "IPv4 Gateway for the master subnet")
    var gateway: [String] = []

    @Option(name: .customLong("ip-range"), help: "Allocate container ip from a sub-range")
    var ipRange: [String] = []

    @Flag(name: .long, help: "Restrict external access to the network")
    var `internal` = false

    @Flag(name: .long, help: "Enable manual container attachment")
    var attachable = false

    @Flag(name: .long, help: "Enable or disable IPv6 networking")
    var ipv6 = false

    @Option(name: .long, help: "Set metadata on a network")
    var label: [String] = []

    @Option(name: .shortAndLong, help: "Set driver specific options")
    var opt: [String] = []

    @Argument(help: "Network name")
    var name: String

    func run() throws {
        guard gateway.count <= subnet.count, ipRange.count <= subnet.count else {
            throw CLIError.usage(command: "network create", message: "every --gateway and --ip-range needs a --subnet")
        }
        struct Pool: Encodable { var subnet: String; var gateway: String?; var iPRange: String? }
        struct IPAM: Encodable { var driver = "default"; var config: [Pool] }
        struct Body: Encodable {
            var name: String
            var driver: String
            var `internal`: Bool
            var attachable: Bool
            var enableIPv6: Bool
            var iPAM: IPAM
            var options: [String: String]
            var labels: [String: String]
        }
        let pools = subnet.enumerated().map { index, subnet in
            Pool(subnet: subnet, gateway: index < gateway.count ? gateway[index] : nil, iPRange: index < ipRange.count ? ipRange[index] : nil)
        }
        let body = Body(name: name, driver: driver, internal: `internal`, attachable: attachable, enableIPv6: ipv6, iPAM: IPAM(config: pools),
                        options: KeyValueArguments.map(opt), labels: KeyValueArguments.map(label))
        struct Created: Decodable { var id: String }
        let created = try Berth.client().decode(Created.self, "POST", "/networks/create", body: try DaemonClient.json(body))
        try Console.out(created.id + "\n")
    }
}

/// `berth network ls`.
struct NetworkList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks", aliases: ["list"])

    @Flag(name: .shortAndLong, help: "Only display network IDs")
    var quiet = false

    @Flag(name: .customLong("no-trunc"), help: "Do not truncate the output")
    var noTrunc = false

    @Option(name: .shortAndLong, help: "Provide filter values (e.g. \"driver=bridge\")")
    var filter: [String] = []

    @Option(name: .long, help: "Format output using a template: {{.Name}}, {{json .}}")
    var format: String?

    func run() throws {
        var query = Query()
        if let encoded = try FilterArgument.encode(filter) { query.add("filters", encoded) }
        let networks = try Berth.client().decode([NetworkRow].self, "GET", "/networks", query: query).sorted { $0.name < $1.name }
        let shown = { (row: NetworkRow) in noTrunc ? row.id : String(row.id.prefix(12)) }
        if quiet {
            try Console.out(networks.map { shown($0) + "\n" }.joined())
            return
        }
        if let format, !format.hasPrefix("table") {
            let template = try InspectTemplate(format)
            try Console.out(try networks.map { template.render(Array(try APICoding.encoder.encode($0))) + "\n" }.joined())
            return
        }
        var table = Table(header: ["NETWORK ID", "NAME", "DRIVER", "SCOPE"], minWidth: 0, padding: 3)
        for network in networks { table.append([shown(network), network.name, network.driver ?? "", network.scope ?? "local"]) }
        try Console.out(table.rendered)
    }
}

/// `berth network inspect NETWORK…`.
struct NetworkInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more networks")

    @Option(name: .shortAndLong, help: "Format output using a template: {{.Field}} or {{json .Field}}")
    var format: String?

    @Argument(help: "Network names or IDs")
    var networks: [String]

    func run() throws {
        let client = try Berth.client()
        try Inspect.printObjects(networks, format: format, missing: { "Error response from daemon: network \($0) not found" }) { name in
            do {
                return try client.call("GET", "/networks/\(Query.escapePath(name))")
            } catch CLIError.daemon(let status, _) where status == 404 {
                return nil
            }
        }
    }
}

/// `berth network rm NETWORK…`.
struct NetworkRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more networks", aliases: ["remove"])

    @Argument(help: "Network names or IDs")
    var networks: [String]

    func run() throws {
        let client = try Berth.client()
        try ContainerBatch.apply(networks) { name in
            try client.call("DELETE", "/networks/\(Query.escapePath(name))")
            try Console.out(name + "\n")
        }
    }
}

/// `berth network prune`: removes user-defined networks no container uses.
struct NetworkPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all unused networks")

    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false

    @Option(name: .long, help: "Provide filter values (e.g. \"until=<timestamp>\")")
    var filter: [String] = []

    func run() throws {
        struct Pruned: Decodable { var networksDeleted: [String]? }
        if !force {
            guard Confirmation.ask("WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ") else { return }
        }
        var query = Query()
        if let encoded = try FilterArgument.encode(filter) { query.add("filters", encoded) }
        let pruned = try Berth.client().decode(Pruned.self, "POST", "/networks/prune", query: query)
        if let deleted = pruned.networksDeleted, !deleted.isEmpty {
            try Console.out("Deleted Networks:\n" + deleted.map { $0 + "\n" }.joined())
        }
    }
}

/// `berth network connect NETWORK CONTAINER`.
struct NetworkConnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Connect a container to a network")

    @Option(name: .long, help: "Add network-scoped alias for the container")
    var alias: [String] = []

    @Option(name: .long, help: "IPv4 address (e.g., 172.30.100.104)")
    var ip: String?

    @Option(name: .long, help: "IPv6 address (e.g., 2001:db8::33)")
    var ip6: String?

    @Option(name: .long, help: "Add link to another container")
    var link: [String] = []

    @OptionGroup var target: NetworkAndContainer

    func run() throws {
        struct Body: Encodable { var container: String; var endpointConfig: EndpointBody }
        let endpoint = EndpointBody(aliases: alias.isEmpty ? nil : alias, iPAMConfig: .of(ip, ip6),
                                    links: link.isEmpty ? nil : link)
        _ = try Berth.client().call("POST", "/networks/\(Query.escapePath(target.network))/connect",
                                    body: try DaemonClient.json(Body(container: target.container, endpointConfig: endpoint)))
    }
}

/// `berth network disconnect NETWORK CONTAINER`.
struct NetworkDisconnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Disconnect a container from a network")

    @Flag(name: .shortAndLong, help: "Force the container to disconnect from a network")
    var force = false

    @OptionGroup var target: NetworkAndContainer

    func run() throws {
        struct Body: Encodable { var container: String; var force: Bool }
        _ = try Berth.client().call("POST", "/networks/\(Query.escapePath(target.network))/disconnect",
                                    body: try DaemonClient.json(Body(container: target.container, force: force)))
    }
}

/// The `NETWORK CONTAINER` arguments of `network connect` and `disconnect`.
struct NetworkAndContainer: ParsableArguments {
    @Argument(help: "Network name or ID")
    var network: String

    @Argument(help: "Container name or ID")
    var container: String
}
