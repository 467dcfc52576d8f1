import CBerthSys
import Glibc

/// The server side of `D/attach.sock` (docs/internals.md §2).
///
/// A client's first line is either `attach stdin=0|1 stdout=0|1 stderr=0|1 [detach=HEX]` —
/// answered with `ok`, after which it receives output (stdcopy frames, or raw bytes with a TTY)
/// and its bytes go to the process's stdin, until it sends the detach sequence (hex bytes:
/// `1011` is ctrl-p ctrl-q), which disconnects it without ending stdin —
/// or `resize <rows> <cols>`, answered with `ok` or `error <reason>` per line. Guarantees: the
/// monitor never blocks on a client; a client with more than `clientBufferLimit` bytes unread
/// is disconnected; with `--stdin-once`, the first stdin client's half-close ends stdin.
final class AttachServer {
    /// Unread output a client may accumulate before it is dropped.
    static let clientBufferLimit = 1 << 20
    /// Output kept for clients the monitor waits for (`--hold-output`, and an exec's client);
    /// while this much is kept and they have not all come, output is not read.
    static let earlyOutputLimit = 64 * 1024
    /// The longest command line accepted.
    static let maximumLineLength = 256

    let listener: Int32
    private(set) var clients: [AttachClient] = []
    private let stdin: StdinForwarder
    private let terminal: Int32
    private let stdinOnce: Bool
    private var earlyOutput: [(stream: StreamID, bytes: [UInt8])] = []
    private var earlyOutputCount = 0
    /// `attach` clients still expected; output is kept for them until they have all come.
    private var awaitedClients: Int

    /// - Parameters:
    ///   - terminal: the pty master for `resize` and raw output, or -1 for pipes (framed output).
    ///   - awaitedClients: how many `attach` clients are expected; each gets the output produced
    ///     before it came (up to `earlyOutputLimit` bytes) replayed.
    init(listener: Int32, stdin: StdinForwarder, terminal: Int32, stdinOnce: Bool, awaitedClients: Int) {
        self.listener = listener
        self.stdin = stdin
        self.terminal = terminal
        self.stdinOnce = stdinOnce
        self.awaitedClients = awaitedClients
    }

    /// True while output is kept for an expected `attach` client that has not come yet.
    var holdsOutput: Bool { awaitedClients > 0 && earlyOutputCount > 0 }

    /// True while expected clients have not come and the kept output is full: output must not
    /// be read until they come (or `stopHolding`), so none is lost.
    var holdIsFull: Bool { awaitedClients > 0 && earlyOutputCount >= AttachServer.earlyOutputLimit }

    /// The most output that may be read now: what still fits in the kept output while clients
    /// are expected (so a chunk is never kept only in part), otherwise unlimited.
    var readLimit: Int { awaitedClients > 0 ? AttachServer.earlyOutputLimit - earlyOutputCount : .max }

    /// Stops waiting for expected clients and drops the kept output.
    func stopHolding() {
        awaitedClients = 0
        earlyOutput = []
        earlyOutputCount = 0
    }

    /// Accepts every pending connection.
    func acceptPending() {
        while let fd = UnixSocket.accept(listener) {
            clients.append(AttachClient(fd: fd))
        }
    }

    /// The poll events a client needs now: input unless it is attached to a stdin that is full,
    /// output while bytes are queued.
    func pollEvents(for client: AttachClient) -> Int16 {
        var events: Int16 = 0
        let pushedBack = client.role == .attached && client.wantsStdin && !stdin.acceptsInput && stdin.fd >= 0
        if client.readOpen && !pushedBack { events |= Int16(POLLIN) }
        if client.pendingCount > 0 { events |= Int16(POLLOUT) }
        return events
    }

    /// Acts on poll events for `client`: reads what it sent, writes what is queued for it, and
    /// closes it when the peer is gone (hang-up or error with nothing left to read).
    /// `buffer` is scratch space for reading.
    func handle(_ revents: Int16, on client: AttachClient, buffer: inout [UInt8]) {
        if revents & Int16(POLLIN) != 0 { readFrom(client, into: &buffer) }
        if revents & Int16(POLLOUT) != 0 { client.flush() }
        if revents & Int16(POLLIN) == 0 && revents & Int16(POLLHUP | POLLERR) != 0 { client.close() }
    }

    private func readFrom(_ client: AttachClient, into buffer: inout [UInt8]) {
        switch Sys.read(client.fd, into: &buffer) {
        case .data(let n): receive(buffer[0..<n], from: client)
        case .wouldBlock: return
        case .end, .failed: clientStoppedSending(client)
        }
    }

    /// Queues one chunk of output for every attached client that asked for `stream`, and keeps
    /// it for the clients still expected.
    func broadcast(_ chunk: ArraySlice<UInt8>, stream: StreamID) {
        if awaitedClients > 0 && earlyOutputCount < AttachServer.earlyOutputLimit {
            let kept = chunk.prefix(AttachServer.earlyOutputLimit - earlyOutputCount)
            earlyOutput.append((stream, Array(kept)))
            earlyOutputCount += kept.count
        }
        for client in clients where client.role == .attached && !client.isClosed {
            send(chunk, stream: stream, to: client)
        }
    }

    /// Asks every client to close once its queued output is written.
    func closeAllWhenFlushed() {
        for client in clients {
            client.closeWhenFlushed = true
            client.readOpen = false
            if client.pendingCount == 0 { client.close() }
        }
    }

    /// Closes every client now and the listener.
    func closeAll() {
        for client in clients { client.close() }
        clients.removeAll()
        close(listener)
    }

    /// Forgets clients whose connection is closed.
    func removeClosed() {
        clients.removeAll { $0.isClosed }
    }

    private func send(_ chunk: ArraySlice<UInt8>, stream: StreamID, to client: AttachClient) {
        let wanted = stream == .stdout ? client.wantsStdout : client.wantsStderr
        guard wanted else { return }
        if terminal < 0 {
            let length = UInt32(chunk.count)
            client.queue([stream.rawValue, 0, 0, 0,
                          UInt8(length >> 24), UInt8((length >> 16) & 0xFF),
                          UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)][...])
        }
        client.queue(chunk)
        client.flush()
        if client.pendingCount > AttachServer.clientBufferLimit {
            Sys.writeBestEffort(2, "berth-monitor: dropping attach client: more than \(AttachServer.clientBufferLimit) bytes unread\n")
            client.close()
        }
    }

    private func receive(_ bytes: ArraySlice<UInt8>, from client: AttachClient) {
        if client.role == .attached {
            if client.wantsStdin { forwardStdin(bytes, from: client) }
            return
        }
        var rest = bytes
        while let newline = rest.firstIndex(of: 0x0A), !client.closeWhenFlushed, !client.isClosed, client.role != .attached {
            client.line.append(contentsOf: rest[rest.startIndex..<newline])
            rest = rest[(newline + 1)...]
            if client.line.last == 0x0D { client.line.removeLast() }
            let line = String(decoding: client.line, as: UTF8.self)
            client.line.removeAll()
            execute(line, for: client)
        }
        if client.closeWhenFlushed || client.isClosed { return }
        if client.role == .attached {
            if client.wantsStdin && !rest.isEmpty { forwardStdin(rest, from: client) }
            return
        }
        client.line.append(contentsOf: rest)
        if client.line.count > AttachServer.maximumLineLength {
            refuse("error command line longer than \(AttachServer.maximumLineLength) bytes", client)
        }
    }

    private func execute(_ line: String, for client: AttachClient) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        switch words.first {
        case "attach" where client.role == .awaitingCommand:
            guard let streams = AttachServer.parseAttach(words.dropFirst()) else {
                refuse("error expected: attach stdin=0|1 stdout=0|1 stderr=0|1", client)
                return
            }
            client.role = .attached
            client.wantsStdin = streams.stdin
            client.wantsStdout = streams.stdout
            client.wantsStderr = streams.stderr
            client.detachKeys = streams.detach
            // After the acknowledgement, the client gets what was kept for it, then everything.
            reply("ok", to: client)
            replayEarlyOutput(to: client)
        case "resize":
            client.role = .control
            guard words.count == 3, let rows = UInt16(words[1]), let columns = UInt16(words[2]) else {
                reply("error expected: resize <rows> <cols>", to: client)
                return
            }
            if terminal < 0 {
                reply("error the process has no terminal (started without --tty)", to: client)
            } else if berth_set_winsize(terminal, rows, columns) != 0 {
                reply("error set window size: \(Sys.errorString(errno))", to: client)
            } else {
                reply("ok", to: client)
            }
        default:
            refuse("error unknown command; expected attach or resize", client)
        }
    }

    private func replayEarlyOutput(to client: AttachClient) {
        guard awaitedClients > 0 else { return }
        for entry in earlyOutput { send(entry.bytes[...], stream: entry.stream, to: client) }
        awaitedClients -= 1
        if awaitedClients == 0 { stopHolding() }
    }

    private func clientStoppedSending(_ client: AttachClient) {
        client.readOpen = false
        switch client.role {
        case .attached:
            if client.wantsStdin && stdinOnce && !client.detached { stdin.endAfterFlush() }
        case .awaitingCommand, .control:
            client.closeWhenFlushed = true
            client.flush()
        }
    }

    private func reply(_ text: String, to client: AttachClient) {
        client.queue(Array((text + "\n").utf8)[...])
        client.flush()
    }

    private func refuse(_ text: String, _ client: AttachClient) {
        client.readOpen = false
        client.closeWhenFlushed = true
        reply(text, to: client)
    }

    /// Passes a client's bytes to stdin, holding back what may begin its detach sequence; on
    /// the whole sequence the client is disconnected (stdin stays open for the process).
    private func forwardStdin(_ bytes: ArraySlice<UInt8>, from client: AttachClient) {
        let keys = client.detachKeys
        guard !keys.isEmpty else { return stdin.enqueue(bytes) }
        var out: [UInt8] = []
        for byte in bytes {
            if byte == keys[client.detachMatched] {
                client.detachMatched += 1
                guard client.detachMatched == keys.count else { continue }
                if !out.isEmpty { stdin.enqueue(out[...]) }
                client.detached = true
                client.readOpen = false
                client.closeWhenFlushed = true
                client.flush()
                return
            }
            out += keys[0..<client.detachMatched]
            client.detachMatched = byte == keys[0] ? 1 : 0
            if client.detachMatched == 0 { out.append(byte) }
        }
        if !out.isEmpty { stdin.enqueue(out[...]) }
    }

    /// The streams named in `stdin=… stdout=… stderr=…` (missing ones are off) and the detach
    /// sequence of `detach=HEX`. Nil when a word is not one of those, a stream's value is not 0
    /// or 1, or the hex is malformed.
    static func parseAttach(_ words: ArraySlice<Substring>) -> (stdin: Bool, stdout: Bool, stderr: Bool, detach: [UInt8])? {
        var result = (stdin: false, stdout: false, stderr: false, detach: [UInt8]())
        for word in words {
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == "detach" {
                let hex = Array(parts[1].utf8)
                guard hex.count % 2 == 0, hex.count <= 32 else { return nil }
                for index in stride(from: 0, to: hex.count, by: 2) {
                    guard let byte = UInt8(String(decoding: hex[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
                    result.detach.append(byte)
                }
                continue
            }
            guard parts.count == 2, parts[1] == "0" || parts[1] == "1" else { return nil }
            let on = parts[1] == "1"
            switch parts[0] {
            case "stdin": result.stdin = on
            case "stdout": result.stdout = on
            case "stderr": result.stderr = on
            default: return nil
            }
        }
        return result
    }
}
