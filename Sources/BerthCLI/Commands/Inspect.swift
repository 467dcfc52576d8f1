import ArgumentParser

/// `berth inspect`: the daemon's JSON for containers or images, as an indented array.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Return low-level information on Docker objects")

    @Option(name: .long, help: "Only inspect objects of the given type (container, image)")
    var type: String?

    @Option(name: .shortAndLong, help: "Format output using a template: {{.Field.Sub}} or {{json .Field}}")
    var format: String?

    @Argument(help: "Names or IDs of containers or images")
    var objects: [String]

    init() {}

    /// An inspect of `objects` restricted to `kind` (`container` or `image`).
    init(kind: String, format: String?, objects: [String]) {
        self.type = kind
        self.format = format
        self.objects = objects
    }

    func run() throws {
        if let type, type != "container", type != "image" {
            throw CLIError.failed("\"\(type)\" is not a valid value for --type")
        }
        let client = try Berth.client()
        try Self.printObjects(objects, format: format, missing: { "Error: No such object: \($0)" }) { try lookup(client, $0) }
    }

    /// Prints the JSON `lookup` finds for each name — an indented array, or `format` applied
    /// to each — then fails naming (with `missing`) those it did not find.
    static func printObjects(_ names: [String], format: String?, missing message: (String) -> String,
                             lookup: (String) throws -> [UInt8]?) throws {
        let template = try format.map { try InspectTemplate($0) }
        var found: [String] = []
        var missing: [String] = []
        for name in names {
            if let json = try lookup(name) {
                found.append(template.map { $0.render(json) } ?? "    " + JSONIndent.indent(json, level: 1))
            } else {
                missing.append(name)
            }
        }
        if template != nil {
            try Console.out(found.map { $0 + "\n" }.joined())
        } else {
            try Console.out(found.isEmpty ? "[]\n" : "[\n" + found.joined(separator: ",\n") + "\n]\n")
        }
        guard missing.isEmpty else { throw CLIError.failed(missing.map(message).joined(separator: "\n")) }
    }

    /// The raw JSON of the container, else the image, named `name`; nil if neither exists.
    private func lookup(_ client: DaemonClient, _ name: String) throws -> [UInt8]? {
        let escaped = Query.escapePath(name)
        let paths = [("container", "/containers/\(escaped)/json"), ("image", "/images/\(escaped)/json")]
        for (kind, path) in paths where type == nil || type == kind {
            do {
                return try client.call("GET", path)
            } catch CLIError.daemon(let status, _) where status == 404 {
                continue
            }
        }
        return nil
    }
}
