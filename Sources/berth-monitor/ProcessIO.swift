import CBerthSys
import Glibc

/// The monitor's ends of the supervised process's stdio.
struct ProcessIO {
    /// Where stdin is written: the stdin pipe, the pty master, or -1 (stdin is /dev/null).
    var stdin: Int32
    /// What is read: the stdout and stderr pipes, or the pty master alone (as stdout).
    var outputs: [(fd: Int32, stream: StreamID)]
    /// The pty master with `--tty`, -1 otherwise.
    var terminal: Int32

    /// Closes every descriptor (after a failed start).
    func closeAll() {
        for output in outputs { close(output.fd) }
        if stdin >= 0 && stdin != terminal { close(stdin) }
    }
}

/// Stdio prepared for the runtime before it starts: the descriptors the runtime inherits and
/// the monitor's ends. With `--tty` the runtime gets /dev/null and a private stderr pipe, and
/// the pty master arrives later on the console socket.
struct PreparedIO {
    var childStdin: Int32
    var childStdout: Int32
    var childStderr: Int32
    /// Read end of the runtime's stderr, read only if the runtime fails.
    var runtimeErrors: Int32
    var consoleListener: Int32
    var consolePath: String
    var io: ProcessIO

    static func make(tty: Bool, stdin: Bool, directory: String) throws -> PreparedIO {
        let devNull = try Sys.openDevNull()
        if tty {
            let path = directory + "/console.sock"
            let listener = try UnixSocket.listen(at: path)
            let errors = try Sys.pipe()
            return PreparedIO(childStdin: devNull, childStdout: devNull, childStderr: errors.write,
                              runtimeErrors: errors.read, consoleListener: listener, consolePath: path,
                              io: ProcessIO(stdin: -1, outputs: [], terminal: -1))
        }
        let out = try Sys.pipe()
        let err = try Sys.pipe()
        var childStdin = devNull
        var monitorStdin: Int32 = -1
        if stdin {
            let input = try Sys.pipe()
            childStdin = input.read
            monitorStdin = input.write
            close(devNull)
        }
        for fd in [out.read, err.read, monitorStdin] where fd >= 0 { Sys.setNonBlocking(fd) }
        return PreparedIO(childStdin: childStdin, childStdout: out.write, childStderr: err.write,
                          runtimeErrors: err.read, consoleListener: -1, consolePath: "",
                          io: ProcessIO(stdin: monitorStdin, outputs: [(out.read, .stdout), (err.read, .stderr)], terminal: -1))
    }

    /// Closes the runtime's ends once it has been started (the container keeps its copies).
    func closeChildEnds() {
        var closed: Set<Int32> = []
        for fd in [childStdin, childStdout, childStderr] where !closed.contains(fd) {
            close(fd)
            closed.insert(fd)
        }
    }

    /// Accepts the runtime's connection on the console socket and receives the pty master.
    /// Returns false when no connection is pending.
    mutating func receiveConsole(stdin wantsStdin: Bool) -> Bool {
        guard let connection = UnixSocket.accept(consoleListener) else { return false }
        defer { close(connection) }
        // The runtime sends the master right after connecting; wait for it.
        let flags = fcntl(connection, F_GETFL)
        _ = fcntl(connection, F_SETFL, flags & ~O_NONBLOCK)
        let master = berth_recv_fd(connection)
        guard master >= 0 else {
            Sys.writeBestEffort(2, "berth-monitor: receiving the pty master failed: \(Sys.errorString(errno))\n")
            return true
        }
        Sys.setNonBlocking(master)
        io = ProcessIO(stdin: wantsStdin ? master : -1, outputs: [(master, .stdout)], terminal: master)
        return true
    }

    /// Stops listening on the console socket and removes it.
    mutating func closeConsoleListener() {
        guard consoleListener >= 0 else { return }
        close(consoleListener)
        unlink(consolePath)
        consoleListener = -1
    }

    /// Up to 64 KiB of what the runtime wrote on stderr, as one line (for `error <message>`).
    func runtimeErrorText() -> String {
        PreparedIO.text(readFrom: runtimeErrors)
    }

    /// Up to 64 KiB of what is readable on `fd` now, as one line.
    static func text(readFrom fd: Int32) -> String {
        Sys.setNonBlocking(fd)
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while collected.count < 65536, case .data(let n) = Sys.read(fd, into: &buffer) {
            collected.append(contentsOf: buffer[0..<n])
        }
        let text = String(decoding: collected, as: UTF8.self)
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            .trimmingSpaces()
    }

    /// Closes every monitor-side descriptor (after a failed start).
    func closeAll() {
        if runtimeErrors >= 0 { close(runtimeErrors) }
        for output in io.outputs where output.fd != runtimeErrors { close(output.fd) }
        if io.stdin >= 0 && io.stdin != io.terminal { close(io.stdin) }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
