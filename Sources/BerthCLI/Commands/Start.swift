import ArgumentParser

/// `berth start`: start stopped containers; with `-a`/`-i`, attach and exit with its status.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start one or more stopped containers")

    @Flag(name: .shortAndLong, help: "Attach STDOUT/STDERR and forward signals")
    var attach = false

    @Flag(name: .shortAndLong, help: "Attach container's STDIN")
    var interactive = false

    @Argument(help: "Containers to start")
    var containers: [String]

    func run() throws {
        let client = try Berth.client()
        if attach || interactive {
            guard containers.count == 1, let name = containers.first else {
                throw CLIError.failed("you cannot start and attach multiple containers at once")
            }
            let container = try client.decode(ContainerInspect.self, "GET", "/containers/\(Query.escapePath(name))/json")
            let status = try AttachedStart(
                client: client, id: container.id, tty: container.config?.tty ?? false,
                attachStdin: interactive && (container.config?.openStdin ?? false),
                autoRemove: container.hostConfig?.autoRemove ?? false
            ).run { $0 }
            if status != 0 { throw ExitCode(status) }
            return
        }
        try ContainerBatch.apply(containers, failure: "failed to start containers") { name in
            try client.call("POST", "/containers/\(Query.escapePath(name))/start")
            try Console.out(name + "\n")
        }
    }
}

/// Applying one request to several containers, as docker does for `start`, `stop`, `rm`, …:
/// each failure is printed and the command fails at the end.
enum ContainerBatch {
    /// Runs `body` for each name; prints each error and, if any failed,
    /// throws `Error: <failure>: a, b` (exit status 1).
    static func apply(_ names: [String], failure: String? = nil, _ body: (String) throws -> Void) throws {
        var failed: [String] = []
        for name in names {
            do {
                try body(name)
            } catch let error as CLIError {
                if error.isConnectionFailure { throw error }
                Console.err(error.description + "\n")
                failed.append(name)
            }
        }
        guard !failed.isEmpty else { return }
        if let failure {
            throw CLIError.failed("Error: \(failure): \(failed.joined(separator: ", "))")
        }
        throw ExitCode(1)
    }

    /// `POST /containers/{name}/{action}` for each container, printing each name that worked.
    static func post(_ action: String, to names: [String], query: Query) throws {
        let client = try Berth.client()
        try apply(names) { name in
            try client.call("POST", "/containers/\(Query.escapePath(name))/\(action)", query: query)
            try Console.out(name + "\n")
        }
    }
}
