import Glibc

/// The monitor's single-threaded poll(2) loop: it drains the process's output into the log and
/// to attach clients, feeds attach input to stdin, serves attach.sock and reaps children.
///
/// Guarantees: output is always read, whether or not a client is attached, so the process
/// never blocks on a full pipe; no descriptor is ever written while it would block.
final class EventLoop {
    /// How long output is still drained after the process exits, for writers that outlive it.
    static let drainTimeoutMilliseconds: Int64 = 2000
    /// How long clients get to read what is queued for them once the process has exited.
    static let flushTimeoutMilliseconds: Int64 = 2000

    private let pid: pid_t
    private let reaper: Reaper
    private let io: ProcessIO
    private let log: JSONLog?
    private let stdin: StdinForwarder
    private let attach: AttachServer
    /// When the monitor stops keeping output for expected clients that have not come.
    private var holdDeadline: Int64?
    private var buffer = [UInt8](repeating: 0, count: 32 * 1024)

    private enum Source {
        case children
        case listener
        case output(Int)
        case stdin
        case client(AttachClient)
    }

    /// - Parameter log: the json-file log, or nil when output goes only to clients (exec).
    /// - Parameter holdMilliseconds: how long output is kept for expected attach clients.
    init(pid: pid_t, reaper: Reaper, io: ProcessIO, log: JSONLog?, stdin: StdinForwarder, attach: AttachServer, holdMilliseconds: Int64) {
        self.pid = pid
        self.reaper = reaper
        self.io = io
        self.log = log
        self.stdin = stdin
        self.attach = attach
        holdDeadline = Sys.monotonicMilliseconds() + holdMilliseconds
    }

    /// Serves until the process has exited and its output is drained (end of file on every
    /// output, or `drainTimeoutMilliseconds` after the exit). Returns how it ended and when.
    func serveUntilExit() -> (status: ExitStatus, finishedAt: String) {
        var open = io.outputs.map { _ in true }
        var exit: (status: ExitStatus, finishedAt: String)?
        var deadline: Int64?
        while true {
            // Checked every turn, not only on SIGCHLD: the process may have been reaped while
            // the runtime was still running (an exec that ends at once).
            if exit == nil, let status = reaper.status(of: pid) {
                exit = (status, Timestamp.now())
                deadline = Sys.monotonicMilliseconds() + EventLoop.drainTimeoutMilliseconds
            }
            // Output waiting for an expected client is not abandoned: the drain time starts
            // once it flows again.
            if attach.holdIsFull, deadline != nil {
                deadline = Sys.monotonicMilliseconds() + EventLoop.drainTimeoutMilliseconds
            }
            if let ended = exit, let until = deadline, !open.contains(true) || Sys.monotonicMilliseconds() >= until {
                finishOutputs()
                return ended
            }
            if let until = holdDeadline, Sys.monotonicMilliseconds() >= until {
                attach.stopHolding()
                holdDeadline = nil
            }
            var sources: [Source] = []
            var fds: [pollfd] = []
            func add(_ source: Source, _ fd: Int32, _ events: Int16) {
                sources.append(source)
                fds.append(pollfd(fd: fd, events: events, revents: 0))
            }
            if exit == nil { add(.children, reaper.fd, Int16(POLLIN)) }
            add(.listener, attach.listener, Int16(POLLIN))
            // Unread output waits in the pipe while the kept output is full (no loss).
            for (index, output) in io.outputs.enumerated() where open[index] && !attach.holdIsFull {
                add(.output(index), output.fd, Int16(POLLIN))
            }
            if stdin.wantsWrite { add(.stdin, stdin.fd, Int16(POLLOUT)) }
            for client in attach.clients { add(.client(client), client.fd, attach.pollEvents(for: client)) }

            let wakeUp = attach.holdIsFull ? [deadline, holdDeadline].compactMap { $0 }.min() : deadline
            let timeout = wakeUp.map { Int32(clamping: max(0, $0 - Sys.monotonicMilliseconds())) } ?? -1
            if poll(&fds, nfds_t(fds.count), timeout) < 0 {
                if errno == EINTR { continue }
                Sys.writeBestEffort(2, "berth-monitor: poll failed: \(Sys.errorString(errno))\n")
                sleep(1)
                continue
            }
            for (index, source) in sources.enumerated() where fds[index].revents != 0 {
                switch source {
                case .children:
                    reaper.reap()
                case .listener:
                    attach.acceptPending()
                case .output(let which):
                    if !readOutput(which) { open[which] = false }
                case .stdin:
                    stdin.flush()
                case .client(let client):
                    attach.handle(fds[index].revents, on: client, buffer: &buffer)
                }
            }
            attach.removeClosed()
        }
    }

    /// After the process has exited, waits up to `timeoutMilliseconds` for expected `attach`
    /// clients while output is kept for them, so output of a process that ended before the
    /// daemon connected is still delivered. Returns at once when they attached earlier or when
    /// there was no output.
    func awaitExpectedClients(timeoutMilliseconds: Int64) {
        let deadline = Sys.monotonicMilliseconds() + timeoutMilliseconds
        while attach.holdsOutput && Sys.monotonicMilliseconds() < deadline {
            var fds = [pollfd(fd: attach.listener, events: Int16(POLLIN), revents: 0)]
            let clients = attach.clients
            for client in clients { fds.append(pollfd(fd: client.fd, events: attach.pollEvents(for: client), revents: 0)) }
            let timeout = Int32(clamping: max(0, deadline - Sys.monotonicMilliseconds()))
            if poll(&fds, nfds_t(fds.count), timeout) < 0 && errno != EINTR { return }
            if fds[0].revents != 0 { attach.acceptPending() }
            for (index, client) in clients.enumerated() where fds[index + 1].revents != 0 {
                attach.handle(fds[index + 1].revents, on: client, buffer: &buffer)
            }
            attach.removeClosed()
        }
    }

    /// Lets clients read what is queued for them (up to `flushTimeoutMilliseconds`), then
    /// closes every connection and the listener.
    func closeClients() {
        attach.closeAllWhenFlushed()
        attach.removeClosed()
        let deadline = Sys.monotonicMilliseconds() + EventLoop.flushTimeoutMilliseconds
        while !attach.clients.isEmpty && Sys.monotonicMilliseconds() < deadline {
            var fds = attach.clients.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
            let timeout = Int32(clamping: max(0, deadline - Sys.monotonicMilliseconds()))
            if poll(&fds, nfds_t(fds.count), timeout) < 0 && errno != EINTR { break }
            for (index, client) in attach.clients.enumerated() where fds[index].revents != 0 {
                if fds[index].revents & Int16(POLLOUT) != 0 { client.flush() } else { client.close() }
            }
            attach.removeClosed()
        }
        attach.closeAll()
    }

    /// Reads one chunk of output and delivers it; false at end of file or on an error (a pty
    /// master reports EIO once no process holds the terminal).
    private func readOutput(_ index: Int) -> Bool {
        let output = io.outputs[index]
        switch Sys.read(output.fd, into: &buffer, limit: attach.readLimit) {
        case .data(let n):
            log?.append(buffer[0..<n], stream: output.stream)
            attach.broadcast(buffer[0..<n], stream: output.stream)
            return true
        case .wouldBlock:
            return true
        case .end, .failed:
            return false
        }
    }

    /// Closes stdin and the output descriptors once the process is gone.
    private func finishOutputs() {
        stdin.close()
        for output in io.outputs { close(output.fd) }
    }
}
