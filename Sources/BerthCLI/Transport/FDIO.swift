import Glibc

/// Blocking reads and writes on raw file descriptors, retrying on `EINTR`. The CLI writes its
/// output with these (not `print`) so binary streams and text never interleave through buffers.
enum FDIO {
    /// Reads up to `max` bytes; returns an empty array at end of file.
    static func read(_ fd: Int32, max: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, max) }
            if n >= 0 {
                buffer.removeSubrange(n...)
                return buffer
            }
            if errno == EINTR { continue }
            throw CLIError.system(operation: "read", errno: errno)
        }
    }

    /// Writes all of `bytes`, looping over short writes.
    static func write<C: Collection>(_ fd: Int32, _ bytes: C) throws where C.Element == UInt8 {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let n = array.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, array.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError.system(operation: "write", errno: errno)
            }
            offset += n
        }
    }

    /// Writes a string as UTF-8.
    static func write(_ fd: Int32, _ text: String) throws {
        try write(fd, Array(text.utf8))
    }
}

/// Writes text to standard output and standard error, unbuffered.
enum Console {
    /// Writes `text` to standard output.
    static func out(_ text: String) throws { try FDIO.write(STDOUT_FILENO, text) }
    /// Writes `text` to standard error, ignoring failures (there is nowhere left to report them).
    static func err(_ text: String) { try? FDIO.write(STDERR_FILENO, text) }
    /// Whether `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}
