import Glibc

/// Reading small local files (env files) and the process environment.
enum LocalFile {
    /// The whole content of the file at `path` as UTF-8 text.
    static func readText(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.system(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        var content: [UInt8] = []
        while true {
            let piece = try FDIO.read(fd)
            if piece.isEmpty { break }
            content += piece
        }
        return String(decoding: content, as: UTF8.self)
    }

    /// The value of environment variable `name`, if set.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
