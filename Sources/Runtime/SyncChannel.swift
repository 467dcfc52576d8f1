import CBerthSys
import Glibc

/// One end of the socket pair between the runtime and a process it is setting up. Messages are
/// whole datagrams (SOCK_SEQPACKET): the parent sends `go`, the child answers `ready` or
/// `error <message>`. Both ends are close-on-exec, so a successful `execve` reads as end of file.
struct SyncChannel {
    enum Message: Equatable {
        case go
        case ready
        case error(String)
        case closed
    }

    let fd: Int32

    /// A connected pair: `(parent, child)`.
    static func pair() throws -> (SyncChannel, SyncChannel) {
        var fds: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                  "create sync socket pair")
        return (SyncChannel(fd: fds[0]), SyncChannel(fd: fds[1]))
    }

    func send(_ message: Message) {
        let text: String
        switch message {
        case .go: text = "go"
        case .ready: text = "ready"
        case let .error(reason): text = "error " + reason
        case .closed: return
        }
        var bytes = Array(text.utf8)
        if bytes.count > 4000 { bytes = Array(bytes[0..<4000]) }
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Waits for the next message; `.closed` when the other end is gone and nothing it sent is
    /// left unread.
    func receive() -> Message {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            // ECONNRESET: the peer closed with a message of ours unread (it failed after `go`).
            // The kernel reports that once, ahead of what the peer sent before closing.
            if n < 0 && (errno == EINTR || errno == ECONNRESET) { continue }
            if n <= 0 { return .closed }
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            if text == "go" { return .go }
            if text == "ready" { return .ready }
            if text.hasPrefix("error ") { return .error(String(text.dropFirst(6))) }
            return .error("unexpected message from container init: \(text)")
        }
    }

    func close() { _ = Glibc.close(fd) }
}
