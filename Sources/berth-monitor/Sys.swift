import Glibc

/// The outcome of one non-blocking `read`.
enum ReadResult {
    case data(Int)
    case wouldBlock
    case end
    case failed(Int32)
}

/// The outcome of one non-blocking `write`.
enum WriteResult {
    case wrote(Int)
    case wouldBlock
    case failed(Int32)
}

/// Small wrappers over system calls the monitor repeats. They retry EINTR and never throw
/// for conditions the event loop handles (EAGAIN, EOF).
enum Sys {
    /// A description of `code` such as "No such file or directory".
    static func errorString(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// Makes `fd` non-blocking; returns false if fcntl failed.
    @discardableResult
    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// Marks `fd` close-on-exec; returns false if `fd` is not open.
    @discardableResult
    static func setCloseOnExec(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFD)
        return flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0
    }

    /// A close-on-exec pipe (pipe2 is not exported by Glibc; the monitor is single-threaded,
    /// so no exec can happen between pipe and fcntl).
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw MonitorError.system(operation: "create a pipe", errno: errno) }
        setCloseOnExec(fds[0])
        setCloseOnExec(fds[1])
        return (fds[0], fds[1])
    }

    /// Opens /dev/null for reading and writing, close-on-exec.
    static func openDevNull() throws -> Int32 {
        let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw MonitorError.system(operation: "open /dev/null", errno: errno) }
        return fd
    }

    /// Reads at most `limit` (default and at most `buffer.count`) bytes into the start of
    /// `buffer`.
    static func read(_ fd: Int32, into buffer: inout [UInt8], limit: Int = .max) -> ReadResult {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, limit)) }
            if n > 0 { return .data(n) }
            if n == 0 { return .end }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .failed(errno)
        }
    }

    /// Writes `bytes[offset...]` once (a short write is a success).
    static func write(_ fd: Int32, _ bytes: [UInt8], from offset: Int) -> WriteResult {
        // Non-empty from here on, so the buffer has a base address.
        guard offset < bytes.count else { return .wrote(0) }
        while true {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n >= 0 { return .wrote(n) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .failed(errno)
        }
    }

    /// Writes a whole line to a possibly blocking descriptor, ignoring failures: used for
    /// reports whose reader may already be gone.
    static func writeBestEffort(_ fd: Int32, _ text: String) {
        var done = 0
        let bytes = Array(text.utf8)
        while done < bytes.count {
            switch write(fd, bytes, from: done) {
            case .wrote(let n): done += n
            case .wouldBlock, .failed: return
            }
        }
    }

    /// Milliseconds on the monotonic clock, for deadlines.
    static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
