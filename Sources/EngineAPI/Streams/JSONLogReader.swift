#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc

/// One entry of a docker json-file log.
struct LogEntry: Decodable {
    var log: String
    var stream: String
    var time: String
}

/// Reads a container's json-file log: whole, the last N entries, and then what is appended
/// while `stillRunning` says the container runs (`logs -f`).
struct JSONLogReader {
    let path: String

    /// Entries from `offset` to the end; returns them and the offset after the last complete line.
    func read(from offset: Int) -> (entries: [LogEntry], next: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], offset) }
        defer { close(fd) }
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0, let bytes = try? FileSystem.readAll(fd) else { return ([], offset) }
        guard let lastNewline = bytes.lastIndex(of: 0x0a) else { return ([], offset) }
        let decoder = JSONDecoder()
        var entries: [LogEntry] = []
        for line in bytes[...lastNewline].split(separator: 0x0a) {
            if let entry = try? decoder.decode(LogEntry.self, from: Data(line)) { entries.append(entry) }
        }
        return (entries, offset + lastNewline + 1)
    }

    /// Streams entries to `emit`: the last `tail` (all when nil) then, when `follow`, new ones
    /// until `stillRunning` returns false and the file has been read to its end.
    func stream(tail: Int?, follow: Bool, stillRunning: @Sendable () async -> Bool, emit: (LogEntry) async throws -> Void) async throws {
        var (entries, offset) = read(from: 0)
        if let tail { entries = Array(entries.suffix(max(0, tail))) }
        for entry in entries { try await emit(entry) }
        guard follow else { return }
        while true {
            let running = await stillRunning()
            let (more, next) = read(from: offset)
            offset = next
            for entry in more { try await emit(entry) }
            if !running { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }
}
