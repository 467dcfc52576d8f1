import ArgumentParser
import BerthSystem
import Glibc

/// `berth images`: list images.
struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images")

    @Flag(name: .shortAndLong, help: "Show all images (default hides intermediate images)")
    var all = false

    @Flag(name: .shortAndLong, help: "Only show image IDs")
    var quiet = false

    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false

    @Option(name: .shortAndLong, help: "Filter output based on conditions provided (key=value)")
    var filter: [String] = []

    @Option(name: .long, help: "Format output using a template: {{.Repository}}:{{.Tag}}, 'table {{.ID}}\\t{{.Size}}' or {{json .}}")
    var format: String?

    @Argument(help: "REPOSITORY[:TAG]")
    var repository: String?

    func run() throws {
        var query = Query()
        query.add("all", flag: all)
        var filters = filter
        if let repository { filters.append("reference=\(repository)") }
        if let encoded = try FilterArgument.encode(filters) { query.add("filters", encoded) }
        let images = try Berth.client().decode([ImageSummary].self, "GET", "/images/json", query: query)
        if quiet {
            var seen = Set<String>()
            var out = ""
            for image in images {
                let id = noTrunc ? image.id : Text.shortID(image.id)
                if seen.insert(id).inserted { out += id + "\n" }
            }
            try Console.out(out)
            return
        }
        let now = Int64(time(nil))
        if let format {
            let headers = ["Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE"]
            let rows = images.flatMap { image in
                ListFormat.imageRows(image, now: now, truncate: !noTrunc).map { row -> [String: String] in
                    ["Repository": row[0], "Tag": row[1], "ID": row[2], "CreatedSince": row[3], "Size": row[4],
                     "CreatedAt": image.created.map { Timestamp(seconds: $0).rfc3339 } ?? ""]
                }
            }
            try Console.out(try RowFormat(format, headers: headers).render(rows))
            return
        }
        var table = Table(header: ListFormat.imageHeader)
        for image in images {
            for row in ListFormat.imageRows(image, now: now, truncate: !noTrunc) { table.append(row) }
        }
        try Console.out(table.rendered)
    }
}

/// `berth tag`: give an image another name.
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")

    @Argument(help: "SOURCE_IMAGE[:TAG]")
    var source: String

    @Argument(help: "TARGET_IMAGE[:TAG]")
    var target: String

    func run() throws {
        let reference = try ImageName.parse(target)
        guard reference.digest == nil else {
            throw CLIError.failed("refusing to create a tag with a digest reference")
        }
        var query = Query()
        query.add("repo", reference.familiarRepository)
        query.add("tag", reference.tag ?? "latest")
        try Berth.client().call("POST", "/images/\(Query.escapePath(source))/tag", query: query)
    }
}

/// `berth rmi`: remove images.
struct Rmi: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove one or more images")

    @Flag(name: .shortAndLong, help: "Force removal of the image")
    var force = false

    @Flag(name: .customLong("no-prune"), help: "Do not delete untagged parents")
    var noPrune = false

    @Argument(help: "Images to remove")
    var images: [String]

    func run() throws {
        let client = try Berth.client()
        var query = Query()
        query.add("force", flag: force)
        query.add("noprune", flag: noPrune)
        try ContainerBatch.apply(images) { name in
            let items: [ImageDeleteItem]
            do {
                items = try client.decode([ImageDeleteItem].self, "DELETE", "/images/\(Query.escapePath(name))", query: query)
            } catch CLIError.daemon(let status, _) where force && status == 404 {
                // docker: with --force a missing image is silently skipped.
                return
            }
            var out = ""
            for item in items {
                if let untagged = item.untagged { out += "Untagged: \(untagged)\n" }
                if let deleted = item.deleted { out += "Deleted: \(deleted)\n" }
            }
            try Console.out(out)
        }
    }
}
