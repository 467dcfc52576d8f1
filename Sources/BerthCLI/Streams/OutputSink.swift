import Glibc

/// Writes container output to the local standard output and error: demultiplexed when the
/// container has no TTY, raw otherwise.
struct OutputSink {
    private let tty: Bool
    private var demuxer = StdCopyDemuxer()

    /// A sink for a container or exec whose `Tty` is `tty`.
    init(tty: Bool) { self.tty = tty }

    /// Writes `bytes` received from the daemon. A system-error frame throws its message.
    mutating func write(_ bytes: [UInt8]) throws {
        if tty {
            try FDIO.write(STDOUT_FILENO, bytes)
            return
        }
        for frame in try demuxer.feed(bytes) {
            switch frame.stream {
            case .stdin, .stdout: try FDIO.write(STDOUT_FILENO, frame.payload)
            case .stderr: try FDIO.write(STDERR_FILENO, frame.payload)
            case .systemError:
                throw CLIError.failed("Error from daemon in stream: \(String(decoding: frame.payload, as: UTF8.self))")
            }
        }
    }
}
