import BerthSystem
import Glibc

/// A container output stream, numbered as in docker's stdcopy frames.
enum StreamID: UInt8 {
    case stdout = 1
    case stderr = 2

    var name: String { self == .stdout ? "stdout" : "stderr" }
}

/// The container log in docker's json-file format: one
/// `{"log":"…","stream":"stdout","time":"<RFC3339Nano>"}` line per line of output.
///
/// Guarantees: each chunk read from the container is split at newlines, one entry per line
/// with its `\n` kept (as docker does); a trailing partial line is an entry of its own. Each
/// chunk is written with one `write` on an `O_APPEND` descriptor, so entries are never
/// interleaved. A failing write (disk full) is reported once to the monitor log and does not
/// stop the monitor: output keeps being drained.
final class JSONLog {
    private let fd: Int32
    private let path: String
    private var reportedFailure = false

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw MonitorError.system(operation: "open log \(path)", errno: errno) }
        self.path = path
    }

    deinit { close(fd) }

    /// Appends the entries for one chunk of output.
    func append(_ chunk: ArraySlice<UInt8>, stream: StreamID) {
        let entries = JSONLog.entries(for: chunk, stream: stream)
        do {
            try FileSystem.writeAll(fd, entries)
        } catch {
            if !reportedFailure {
                reportedFailure = true
                Sys.writeBestEffort(2, "berth-monitor: writing \(path) failed: \(error); later output is not logged until writes succeed again\n")
            }
        }
    }

    /// The json-file lines for `chunk`, all stamped with the current time.
    static func entries(for chunk: ArraySlice<UInt8>, stream: StreamID) -> [UInt8] {
        var time: [UInt8] = []
        Timestamp.appendNow(to: &time)
        let suffix = Array("\",\"stream\":\"\(stream.name)\",\"time\":\"".utf8) + time + Array("\"}\n".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(chunk.count + 64)
        var start = chunk.startIndex
        while start < chunk.endIndex {
            var end = start
            while end < chunk.endIndex && chunk[end] != 0x0A { end += 1 }
            if end < chunk.endIndex { end += 1 }
            out.append(contentsOf: prefix)
            JSONEscape.append(chunk[start..<end], to: &out)
            out.append(contentsOf: suffix)
            start = end
        }
        return out
    }

    private static let prefix: [UInt8] = Array("{\"log\":\"".utf8)
}
