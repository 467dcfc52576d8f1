import ArgumentParser
import Glibc

/// `berth run`: create, attach, start and wait, exiting with the container's status.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run",
        abstract: "Create and run a new container from an image", helpNames: [.long])

    @OptionGroup var options: ContainerOptions

    @Flag(name: .shortAndLong, help: "Run container in background and print container ID")
    var detach = false

    @Argument(help: "The image to run")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments")
    var command: [String] = []

    func run() throws {
        let body = try options.makeBody(image: image, command: command, detach: detach, commandName: "run")
        if options.tty && options.interactive && !detach && !Console.isTerminal(STDIN_FILENO) {
            throw CLIError.failed("the input device is not a TTY")
        }
        let client = try Berth.client()
        let id = try ContainerCreation(client: client, commandName: "run").create(body, name: options.name)
        let startFailed = { (error: CLIError) -> CLIError in
            // docker: 127 when the command is missing, 126 when it cannot be executed, else 125.
            guard case .daemon = error else { return error }
            return CLIError.runFailed(command: "run", message: error.description,
                                      status: ContainerCreation.startFailureStatus(error.description))
        }
        if detach {
            var query = Query()
            query.add("condition", options.autoRemove ? "removed" : "next-exit")
            let wait = try client.begin("POST", "/containers/\(id)/wait", query: query)
            do {
                try client.call("POST", "/containers/\(id)/start")
            } catch let error as CLIError {
                throw startFailed(error)
            }
            // Like docker, drop the wait connection once the container has started.
            withExtendedLifetime(wait) {}
            try Console.out(id + "\n")
            return
        }
        let status = try AttachedStart(client: client, id: id, tty: options.tty, attachStdin: options.interactive,
                                       autoRemove: options.autoRemove).run(startFailed: startFailed)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `berth create`: create a container and print its ID.
struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a new container", helpNames: [.long])

    @OptionGroup var options: ContainerOptions

    @Argument(help: "The image to create the container from")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments")
    var command: [String] = []

    func run() throws {
        let body = try options.makeBody(image: image, command: command, detach: false, commandName: "create")
        let client = try Berth.client()
        let id = try ContainerCreation(client: client, commandName: "create").create(body, name: options.name)
        try Console.out(id + "\n")
    }
}
