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
/// chunk is written with one `write` per file on an `O_APPEND` descriptor, so entries are never
/// interleaved. A failing write (disk full) is reported once to the monitor log and does not
/// stop the monitor: output keeps being drained.
///
/// With a size limit (`--log-max-size`) the log is rotated as docker's json-file driver does:
/// when the next write would take the file past the limit it becomes `<log>.1` (older ones
/// move up to `<log>.<max-files − 1>`, the oldest is dropped) and a new file is begun, so the
/// log never takes more than about `max-size × max-files` however fast the container writes.
final class JSONLog {
    private var fd: Int32
    /// The real file (the monitor's `container-json.log` is a link to the container's log).
    private let path: String
    private let maxSize: Int64
    private let maxFiles: Int
    private var size: Int64
    private var reportedFailure = false

    init(path: String, maxSize: Int64 = 0, maxFiles: Int = 1) throws {
        // The link's target (it need not exist yet): rotation renames the real files.
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &target, Int(PATH_MAX))
        self.path = length > 0 ? String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : path
        fd = open(self.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw MonitorError.system(operation: "open log \(path)", errno: errno) }
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
        self.maxSize = maxSize
        self.maxFiles = max(1, maxFiles)
    }

    deinit { close(fd) }

    /// Appends the entries for one chunk of output. With a size limit the log is rotated
    /// between entries wherever the next one would not fit, so a chunk whose entries are larger
    /// than the limit (a container that wrote faster than the monitor read) spreads over files
    /// instead of overfilling one; only a single entry larger than the limit fills a file alone.
    func append(_ chunk: ArraySlice<UInt8>, stream: StreamID) {
        let entries = JSONLog.entries(for: chunk, stream: stream)
        guard maxSize > 0 else { return write(entries[...]) }
        var pending = entries.startIndex
        var next = pending
        while next < entries.endIndex {
            // Escaping leaves a raw newline only at the end of each entry.
            var end = next
            while entries[end] != 0x0A { end += 1 }
            end += 1
            if size + Int64(end - pending) > maxSize && (size > 0 || next > pending) {
                if next > pending { write(entries[pending..<next]) }
                rotate()
                pending = next
            }
            next = end
        }
        write(entries[pending..<next])
    }

    /// Writes entries with one `write`; a failure is reported once.
    private func write(_ entries: ArraySlice<UInt8>) {
        guard !entries.isEmpty else { return }
        do {
            try FileSystem.writeAll(fd, entries)
            size += Int64(entries.count)
        } catch {
            if !reportedFailure {
                reportedFailure = true
                Sys.writeBestEffort(2, "berth-monitor: writing \(path) failed: \(error); later output is not logged until writes succeed again\n")
            }
        }
    }

    /// Moves `<log>.N` to `<log>.N+1` (dropping the last), the log to `<log>.1`, and begins
    /// a new log; with one file, the log is emptied instead.
    private func rotate() {
        if maxFiles > 1 {
            for index in stride(from: maxFiles - 1, to: 0, by: -1) {
                let from = index == 1 ? path : "\(path).\(index - 1)"
                rename(from, "\(path).\(index)")
            }
        }
        let fresh = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fresh >= 0 else { return }
        close(fd)
        fd = fresh
        size = 0
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
