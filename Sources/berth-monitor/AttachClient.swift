import Glibc

/// One connection on attach.sock and what it asked for.
///
/// Output to the client is buffered in memory and written only when the socket is writable,
/// so a slow client never blocks the monitor; `AttachServer` drops a client whose buffer
/// passes its limit.
final class AttachClient {
    enum Role {
        /// Connected; its first line has not arrived yet.
        case awaitingCommand
        /// Sent `attach …`: receives output, its bytes go to stdin.
        case attached
        /// Sent `resize …`: may send more control lines, gets one reply per line.
        case control
    }

    let fd: Int32
    var role: Role = .awaitingCommand
    var wantsStdin = false
    var wantsStdout = false
    var wantsStderr = false
    /// The byte sequence that detaches this client (docker's detach keys); empty: none.
    var detachKeys: [UInt8] = []
    /// How many bytes of `detachKeys` the last bytes of stdin matched (held back meanwhile).
    var detachMatched = 0
    /// True once it detached: its leaving does not end the process's stdin.
    var detached = false
    /// Bytes of a command line not yet ended by `\n`.
    var line: [UInt8] = []
    /// False once the client half-closed (or closed) its sending side.
    var readOpen = true
    /// Close the connection as soon as queued output is written.
    var closeWhenFlushed = false
    private(set) var isClosed = false
    private var output: [UInt8] = []
    private var sent = 0

    init(fd: Int32) { self.fd = fd }

    /// Bytes queued but not yet written.
    var pendingCount: Int { output.count - sent }

    /// Queues bytes without writing; the event loop writes when the socket is writable.
    func queue(_ bytes: ArraySlice<UInt8>) {
        output.append(contentsOf: bytes)
    }

    /// Writes queued bytes until the socket would block. Closes the connection on failure
    /// (the peer is gone) or, when `closeWhenFlushed`, once everything is written.
    func flush() {
        while !isClosed && sent < output.count {
            switch Sys.write(fd, output, from: sent) {
            case .wrote(let n): sent += n
            case .wouldBlock:
                if sent > 0 && sent >= output.count / 2 {
                    output.removeFirst(sent)
                    sent = 0
                }
                return
            case .failed:
                close()
                return
            }
        }
        output.removeAll(keepingCapacity: false)
        sent = 0
        if closeWhenFlushed { close() }
    }

    /// Closes the connection now; queued output is discarded.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
        output.removeAll(keepingCapacity: false)
        sent = 0
    }
}
