import ArgumentParser

/// `-t` and `-s`, shared by `stop` and `restart`.
struct StopOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .customLong("timeout"), .customLong("time")], help: "Seconds to wait before killing the container")
    var time: Int?

    @Option(name: .shortAndLong, help: "Signal to send to the container")
    var signal: String?

    var query: Query {
        var query = Query()
        if let signal { query.add("signal", signal) }
        if let time { query.add("t", String(time)) }
        return query
    }
}

/// `berth stop`: stop running containers (SIGTERM, then SIGKILL after the timeout).
struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop one or more running containers")

    @OptionGroup var options: StopOptions

    @Argument(help: "Containers to stop")
    var containers: [String]

    func run() throws {
        try ContainerBatch.post("stop", to: containers, query: options.query)
    }
}

/// `berth kill`: send a signal (default SIGKILL) to running containers.
struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Kill one or more running containers")

    @Option(name: .shortAndLong, help: "Signal to send to the container")
    var signal: String?

    @Argument(help: "Containers to kill")
    var containers: [String]

    func run() throws {
        var query = Query()
        if let signal { query.add("signal", signal) }
        try ContainerBatch.post("kill", to: containers, query: query)
    }
}

/// `berth restart`: stop then start containers.
struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart one or more containers")

    @OptionGroup var options: StopOptions

    @Argument(help: "Containers to restart")
    var containers: [String]

    func run() throws {
        try ContainerBatch.post("restart", to: containers, query: options.query)
    }
}

/// `berth wait`: block until containers stop, then print their exit codes.
struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Block until one or more containers stop, then print their exit codes")

    @Argument(help: "Containers to wait for")
    var containers: [String]

    func run() throws {
        let client = try Berth.client()
        try ContainerBatch.apply(containers) { name in
            let result = try client.decode(WaitResponse.self, "POST", "/containers/\(Query.escapePath(name))/wait")
            try Console.out("\(result.statusCode)\n")
        }
    }
}

/// `berth rm`: remove containers.
struct Rm: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers")

    @Flag(name: .shortAndLong, help: "Force the removal of a running container (uses SIGKILL)")
    var force = false

    @Flag(name: .shortAndLong, help: "Remove anonymous volumes associated with the container")
    var volumes = false

    @Argument(help: "Containers to remove")
    var containers: [String]

    func run() throws {
        let client = try Berth.client()
        var query = Query()
        query.add("force", flag: force)
        query.add("v", flag: volumes)
        try ContainerBatch.apply(containers) { name in
            do {
                try client.call("DELETE", "/containers/\(Query.escapePath(name))", query: query)
            } catch CLIError.daemon(let status, let message) where force && status == 404 {
                // docker: with --force a missing container is reported but is not a failure.
                Console.err(CLIError.daemon(status: status, message: message).description + "\n")
                return
            }
            try Console.out(name + "\n")
        }
    }
}

/// `berth pause`: freeze every process of running containers.
struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause all processes within one or more containers")

    @Argument(help: "Containers to pause")
    var containers: [String]

    func run() throws { try ContainerBatch.post("pause", to: containers, query: Query()) }
}

/// `berth unpause`: thaw paused containers.
struct Unpause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause all processes within one or more containers")

    @Argument(help: "Containers to unpause")
    var containers: [String]

    func run() throws { try ContainerBatch.post("unpause", to: containers, query: Query()) }
}

/// `berth rename`: give a container a new name.
struct Rename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container")

    @Argument(help: "The container")
    var container: String

    @Argument(help: "Its new name")
    var newName: String

    func run() throws {
        var query = Query()
        query.add("name", newName)
        try Berth.client().call("POST", "/containers/\(Query.escapePath(container))/rename", query: query)
    }
}
