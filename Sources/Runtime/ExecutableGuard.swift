import Glibc

/// Refuses to exec the runtime's own binary inside a container. A container whose command is
/// (or whose script's interpreter is) `/proc/self/exe` would otherwise run berth-runtime as a
/// container process that can reopen the host binary for writing once the runtime exits
/// (CVE-2019-5736). Checked on the resolved path and up to four levels of `#!` interpreters,
/// as the kernel follows them.
struct ExecutableGuard {
    private let device: UInt64
    private let inode: UInt64

    /// Captures the identity of the running binary; nil if it cannot be read.
    init?() {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    /// Throws `unsafeExecutable` when `path` or one of its interpreters is this binary.
    func check(_ path: String, name: String) throws {
        var current = path
        for _ in 0..<5 {
            var st = stat()
            guard stat(current, &st) == 0 else { return }
            if UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode {
                throw RuntimeError.unsafeExecutable(name)
            }
            guard let interpreter = ExecutableGuard.interpreter(of: current) else { return }
            current = interpreter
        }
    }

    /// The interpreter named on a `#!` first line, if any.
    private static func interpreter(of path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 2, buffer[0] == UInt8(ascii: "#"), buffer[1] == UInt8(ascii: "!") else { return nil }
        let line = buffer[2..<count].prefix { $0 != UInt8(ascii: "\n") }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" })
        return words.first.map(String.init)
    }
}
