import CBerthSys
import Glibc

/// A connection the daemon has hijacked for attach or exec (`101 UPGRADED`, or a `200` whose
/// body is the raw stream from daemons that do not upgrade): from here on the socket carries
/// the container's stdin one way and its output the other.
struct HijackedStream {
    /// The connection, with any stream bytes read past the response head still buffered.
    let connection: HTTPConnection

    /// Opens `path` with `Connection: Upgrade` / `Upgrade: tcp` and returns the raw stream.
    static func open(_ client: DaemonClient, _ path: String, query: Query = Query(),
                     body: HTTPRequestBody = .bytes([], contentType: "text/plain")) throws -> HijackedStream {
        let response = try client.send("POST", path, query: query, body: body, upgrade: true)
        guard response.head.status == 101 || response.head.status == 200 else {
            throw CLIError.protocolViolation("expected 101 for \(path), got \(response.head.status)")
        }
        return HijackedStream(connection: response.connection)
    }

    /// Copies the stream's output to stdout/stderr (demultiplexed unless `tty`) and, when
    /// `forwardStdin`, local stdin to the stream, half-closing the socket when stdin ends.
    /// Signals in `signals` are delivered to `onSignal` while copying (SIGWINCH for resize,
    /// SIGINT/SIGTERM to proxy). Returns when the daemon closes the stream.
    func pump(tty: Bool, forwardStdin: Bool, signals: [Int32] = [], onSignal: (Int32) -> Void = { _ in }) throws {
        var sink = OutputSink(tty: tty)
        let early = connection.takeBuffered()
        if !early.isEmpty { try sink.write(early) }

        let signalFD = signals.isEmpty ? -1 : berth_signalfd_open(signals, Int32(signals.count))
        defer { if signalFD >= 0 { berth_signalfd_close(signalFD, signals, Int32(signals.count)) } }

        let socketFD = connection.socket.fd
        var stdinOpen = forwardStdin
        while true {
            var fds = [pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)]
            if stdinOpen { fds.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)) }
            if signalFD >= 0 { fds.append(pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw CLIError.system(operation: "poll", errno: errno)
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == socketFD {
                    let bytes = try connection.socket.read()
                    if bytes.isEmpty { return }
                    try sink.write(bytes)
                } else if entry.fd == STDIN_FILENO {
                    let bytes = try FDIO.read(STDIN_FILENO)
                    if bytes.isEmpty {
                        stdinOpen = false
                        connection.socket.shutdownWrite()
                    } else {
                        try connection.socket.write(bytes)
                    }
                } else if entry.fd == signalFD {
                    while case let signal = berth_signalfd_next(signalFD), signal > 0 { onSignal(signal) }
                }
            }
        }
    }
}
