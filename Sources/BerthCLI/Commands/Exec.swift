import ArgumentParser
import Glibc

/// `berth exec`: run a command in a running container and exit with its status.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Execute a command in a running container")

    @Flag(name: .shortAndLong, help: "Detached mode: run command in the background")
    var detach = false

    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached")
    var interactive = false

    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY")
    var tty = false

    @Option(name: .shortAndLong, help: "Username or UID (format: <name|uid>[:<group|gid>])")
    var user: String?

    @Option(name: .shortAndLong, help: "Working directory inside the container")
    var workdir: String?

    @Option(name: .shortAndLong, help: "Set environment variables")
    var env: [String] = []

    @Flag(name: .long, help: "Give extended privileges to the command")
    var privileged = false

    @Argument(help: "The container")
    var container: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments")
    var command: [String] = []

    func run() throws {
        guard !command.isEmpty else {
            throw CLIError.usage(command: "exec", message: "\"berth exec\" requires at least 2 arguments.")
        }
        if tty && interactive && !detach && !Console.isTerminal(STDIN_FILENO) {
            throw CLIError.failed("the input device is not a TTY")
        }
        let client = try Berth.client()
        let body = ExecCreateBody(user: user ?? "", privileged: privileged, tty: tty, attachStdin: interactive && !detach,
                                  attachStderr: !detach, attachStdout: !detach, detach: detach,
                                  env: env.isEmpty ? nil : env, workingDir: workdir ?? "", cmd: command)
        let exec = try client.decode(IDResponse.self, "POST", "/containers/\(Query.escapePath(container))/exec",
                                     body: DaemonClient.json(body))
        let start = try DaemonClient.json(ExecStartBody(detach: detach, tty: tty))
        if detach {
            try client.call("POST", "/exec/\(exec.id)/start", body: start)
            return
        }
        let stream = try HijackedStream.open(client, "/exec/\(exec.id)/start", body: start)
        var terminal: Terminal?
        if tty && interactive && Console.isTerminal(STDIN_FILENO) { terminal = try Terminal.makeRaw(STDIN_FILENO) }
        defer { terminal?.restore() }
        if tty { ContainerResize.send(client, path: "/exec/\(exec.id)/resize") }
        try stream.pump(tty: tty, forwardStdin: interactive, signals: tty ? [SIGWINCH] : []) { _ in
            ContainerResize.send(client, path: "/exec/\(exec.id)/resize")
        }
        terminal?.restore()
        terminal = nil
        let result = try client.decode(ExecInspect.self, "GET", "/exec/\(exec.id)/json")
        let status = Int32(truncatingIfNeeded: result.exitCode ?? 0)
        if status != 0 { throw ExitCode(status) }
    }
}
