import Glibc

/// Forwards bytes from attach clients to the supervised process's stdin without ever blocking
/// the monitor: the descriptor is non-blocking and bytes wait in a buffer until it is writable.
///
/// Guarantees: bytes are delivered in the order they were enqueued; at most `limit` bytes wait
/// (callers stop reading clients while `acceptsInput` is false, which pushes back on them);
/// if the process closed its stdin, pending and later bytes are discarded.
final class StdinForwarder {
    /// Bytes allowed to wait before callers must stop reading attach clients.
    static let limit = 64 * 1024

    /// The descriptor written to, -1 when there is no stdin or it has been closed.
    private(set) var fd: Int32
    /// With a TTY, `fd` is the pty master, shared with the output side: it is never closed
    /// here, and "closing stdin" sends end-of-file (^D) instead.
    private let isTerminal: Bool
    private var pending: [UInt8] = []
    private var sent = 0
    private var ended = false

    init(fd: Int32, isTerminal: Bool) {
        self.fd = fd
        self.isTerminal = isTerminal
    }

    /// Whether more input may be enqueued now.
    var acceptsInput: Bool { fd >= 0 && !ended && pending.count - sent < StdinForwarder.limit }

    /// Whether bytes are waiting for the descriptor to become writable.
    var wantsWrite: Bool { fd >= 0 && sent < pending.count }

    /// Queues `bytes` and writes as much as the descriptor takes now.
    func enqueue(_ bytes: ArraySlice<UInt8>) {
        guard fd >= 0, !ended else { return }
        pending.append(contentsOf: bytes)
        flush()
    }

    /// Ends stdin once everything queued is written (stdin-once): a pipe is closed, a TTY gets
    /// ^D. Later input is discarded.
    func endAfterFlush() {
        guard fd >= 0, !ended else { return }
        if isTerminal { pending.append(0x04) }
        ended = true
        flush()
    }

    /// Writes pending bytes until the descriptor would block.
    func flush() {
        while fd >= 0 && sent < pending.count {
            switch Sys.write(fd, pending, from: sent) {
            case .wrote(let n): sent += n
            case .wouldBlock:
                compact()
                return
            case .failed:
                // EPIPE: the process closed its stdin; nobody will read what is queued.
                close()
                return
            }
        }
        pending.removeAll(keepingCapacity: false)
        sent = 0
        if ended && !isTerminal { close() }
    }

    /// Stops forwarding; closes the descriptor unless it is the shared pty master.
    func close() {
        if fd >= 0 && !isTerminal { Glibc.close(fd) }
        fd = -1
        pending.removeAll(keepingCapacity: false)
        sent = 0
    }

    private func compact() {
        if sent > 0 && sent >= pending.count / 2 {
            pending.removeFirst(sent)
            sent = 0
        }
    }
}
