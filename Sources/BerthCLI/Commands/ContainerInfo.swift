import ArgumentParser

/// `berth diff`: changes to a container's filesystem, as `A`/`C`/`D` lines.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Inspect changes to files or directories on a container's filesystem")

    @Argument(help: "The container")
    var container: String

    func run() throws {
        let changes = try Berth.client().decode([ContainerChange]?.self, "GET",
                                                "/containers/\(Query.escapePath(container))/changes") ?? []
        let kinds = ["C", "A", "D"]
        try Console.out(changes.map { "\(kinds.indices.contains($0.kind) ? kinds[$0.kind] : "?") \($0.path)\n" }.joined())
    }
}

/// `berth top`: the processes running in a container.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Display the running processes of a container")

    @Argument(help: "The container")
    var container: String

    @Argument(parsing: .captureForPassthrough, help: "ps options")
    var psArguments: [String] = []

    func run() throws {
        var query = Query()
        if !psArguments.isEmpty { query.add("ps_args", psArguments.joined(separator: " ")) }
        let top = try Berth.client().decode(TopResponse.self, "GET", "/containers/\(Query.escapePath(container))/top",
                                            query: query)
        var table = Table(header: top.titles ?? [], minWidth: 20)
        for process in top.processes ?? [] { table.append(process) }
        try Console.out(table.rendered)
    }
}

/// `berth commit`: create an image from a container's changes.
struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "commit", abstract: "Create a new image from a container's changes")

    @Option(name: .shortAndLong, help: "Commit message")
    var message: String?

    @Option(name: .shortAndLong, help: "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")")
    var author: String?

    @Option(name: .shortAndLong, help: "Apply Dockerfile instruction to the created image")
    var change: [String] = []

    @Flag(name: .shortAndLong, inversion: .prefixedNo, help: "Pause container during commit")
    var pause = true

    @Argument(help: "The container")
    var container: String

    @Argument(help: "REPOSITORY[:TAG]")
    var repository: String?

    func run() throws {
        var query = Query()
        query.add("container", container)
        if let repository {
            let (repo, tag) = try ImageName.repositoryAndTag(repository)
            query.add("repo", repo)
            if let tag { query.add("tag", tag) }
        }
        if let message { query.add("comment", message) }
        if let author { query.add("author", author) }
        for instruction in change { query.add("changes", instruction) }
        if !pause { query.add("pause", "0") }
        let created = try Berth.client().decode(IDResponse.self, "POST", "/commit", query: query)
        try Console.out(created.id + "\n")
    }
}
