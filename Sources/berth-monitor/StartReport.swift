import Glibc

/// The one-line report on fd 3 that tells the daemon whether the process started
/// (`ok <pid>`) or not (`error <message>`). Sent at most once; the descriptor is closed after.
final class StartReport {
    /// The descriptor the daemon passes for the report.
    static let descriptor: Int32 = 3
    private var fd: Int32

    /// Takes fd 3 if it is open (checked before the monitor opens anything that could reuse
    /// the number) and marks it close-on-exec so the runtime and the container never hold it.
    init() {
        fd = Sys.setCloseOnExec(StartReport.descriptor) ? StartReport.descriptor : -1
    }

    func succeed(pid: pid_t) { send("ok \(pid)\n") }

    /// Reports `error`, keeping the message on one line.
    func fail(_ error: Error) {
        let message = "\(error)".split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        send("error \(message)\n")
    }

    private func send(_ line: String) {
        guard fd >= 0 else { return }
        Sys.writeBestEffort(fd, line)
        close(fd)
        fd = -1
    }
}
