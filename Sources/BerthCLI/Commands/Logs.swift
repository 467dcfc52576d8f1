import ArgumentParser

/// `berth logs`: fetch a container's output, demultiplexed onto stdout and stderr.
struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch the logs of a container")

    @Flag(name: .shortAndLong, help: "Follow log output")
    var follow = false

    @Option(name: [.customShort("n"), .long], help: "Number of lines to show from the end of the logs")
    var tail: String = "all"

    @Option(name: .long, help: "Show logs since timestamp (Unix seconds, RFC 3339) or relative (e.g. 42m)")
    var since: String?

    @Option(name: .long, help: "Show logs before a timestamp (Unix seconds, RFC 3339) or relative (e.g. 42m)")
    var until: String?

    @Flag(name: .shortAndLong, help: "Show timestamps")
    var timestamps = false

    @Argument(help: "The container")
    var container: String

    func run() throws {
        let client = try Berth.client()
        let path = "/containers/\(Query.escapePath(container))"
        let inspect = try client.decode(ContainerInspect.self, "GET", path + "/json")
        var query = Query()
        query.add("follow", flag: follow)
        query.add("stderr", flag: true)
        query.add("stdout", flag: true)
        query.add("tail", tail)
        query.add("timestamps", flag: timestamps)
        if let since { query.add("since", try Events.unixTime(since)) }
        if let until { query.add("until", try Events.unixTime(until)) }
        let response = try client.send("GET", path + "/logs", query: query)
        var sink = OutputSink(tty: inspect.config?.tty ?? false)
        while let bytes = try response.body.next() { try sink.write(bytes) }
    }
}
