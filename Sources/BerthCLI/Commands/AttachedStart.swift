import Glibc

/// Starts a created container with its output attached, the way `docker run` and
/// `docker start -a` do: attach (upgraded) first so no output is lost, register the wait before
/// start so a fast exit is not missed, start, stream until the daemon closes the attach stream,
/// then read the exit status from the wait.
struct AttachedStart {
    let client: DaemonClient
    /// Full container ID.
    let id: String
    /// Whether the container has a TTY (output is then raw, not stdcopy-framed).
    let tty: Bool
    /// Whether local stdin is forwarded.
    let attachStdin: Bool
    /// Whether the container removes itself (`--rm`): the wait then uses `condition=removed`.
    let autoRemove: Bool

    /// Runs the sequence and returns the container's exit status. Errors from `start` are
    /// passed to `startFailed`, which decides what to throw.
    func run(startFailed: (CLIError) -> CLIError) throws -> Int32 {
        var attachQuery = Query()
        attachQuery.add("stderr", flag: true)
        attachQuery.add("stdin", flag: attachStdin)
        attachQuery.add("stdout", flag: true)
        attachQuery.add("stream", flag: true)
        let stream = try HijackedStream.open(client, "/containers/\(id)/attach", query: attachQuery)

        var waitQuery = Query()
        waitQuery.add("condition", autoRemove ? "removed" : "next-exit")
        let wait = try client.begin("POST", "/containers/\(id)/wait", query: waitQuery)

        do {
            try client.call("POST", "/containers/\(id)/start")
        } catch let error as CLIError {
            throw startFailed(error)
        }

        var terminal: Terminal?
        if tty && attachStdin && Console.isTerminal(STDIN_FILENO) {
            terminal = try Terminal.makeRaw(STDIN_FILENO)
        }
        defer { terminal?.restore() }
        if tty { ContainerResize.send(client, path: "/containers/\(id)/resize") }
        let signals: [Int32] = tty ? [SIGWINCH] : ProxiedSignals.all
        try stream.pump(tty: tty, forwardStdin: attachStdin, signals: signals) { signal in
            if signal == SIGWINCH {
                ContainerResize.send(client, path: "/containers/\(id)/resize")
            } else {
                ProxiedSignals.forward(signal, client: client, container: id)
            }
        }
        terminal?.restore()
        terminal = nil

        let response = try client.receive(wait, method: "POST")
        let result = try DaemonClient.decodeJSON(WaitResponse.self, from: response.body.readAll(), what: "wait")
        if let message = result.error?.message, !message.isEmpty {
            Console.err("Error waiting for container: \(message)\n")
        }
        return Int32(truncatingIfNeeded: result.statusCode)
    }
}

/// Sends the local terminal's size to a container or exec (`POST …/resize?h=&w=`).
enum ContainerResize {
    /// Sends the size of the terminal on stdout (or stdin) to `path`; failures are ignored, as
    /// docker ignores them.
    static func send(_ client: DaemonClient, path: String) {
        guard let size = Terminal.size(of: STDOUT_FILENO) ?? Terminal.size(of: STDIN_FILENO) else { return }
        var query = Query()
        query.add("h", String(size.rows))
        query.add("w", String(size.columns))
        _ = try? client.call("POST", path, query: query)
    }
}

/// The signals `run` and `start -a` forward to the container while attached without a TTY
/// (docker's `--sig-proxy`, on by default).
enum ProxiedSignals {
    /// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2.
    static let all: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// Sends `signal` to `container` (`POST /containers/{id}/kill?signal=N`).
    static func forward(_ signal: Int32, client: DaemonClient, container: String) {
        var query = Query()
        query.add("signal", String(signal))
        _ = try? client.call("POST", "/containers/\(container)/kill", query: query)
    }
}
