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

/// Reads a container's json-file log — its rotated files oldest first, then the current one —
/// whole, the last N entries, and then what is appended while `stillRunning` says the
/// container runs (`logs -f`), following the log across rotations.
struct JSONLogReader {
    /// The log files, oldest first; the last is the one being written.
    let files: [String]
    /// Only entries at or after `since` and before `until` (docker's `logs --since/--until`).
    var since: Timestamp?
    var until: Timestamp?

    /// Entries of `path` from `offset`; returns them, the offset after the last complete line
    /// and the file's inode (nil when it cannot be read).
    func read(_ path: String, from offset: Int) -> (entries: [LogEntry], next: Int, inode: UInt64?) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], offset, nil) }
        defer { close(fd) }
        return read(fd, from: offset)
    }

    /// The same for an open file.
    func read(_ fd: Int32, from offset: Int) -> (entries: [LogEntry], next: Int, inode: UInt64?) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return ([], offset, nil) }
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0, let bytes = try? FileSystem.readAll(fd),
              let lastNewline = bytes.lastIndex(of: 0x0a) else { return ([], offset, UInt64(st.st_ino)) }
        let decoder = JSONDecoder()
        var entries: [LogEntry] = []
        for line in bytes[...lastNewline].split(separator: 0x0a) {
            guard let entry = try? decoder.decode(LogEntry.self, from: Data(line)), wanted(entry) else { continue }
            entries.append(entry)
        }
        return (entries, offset + lastNewline + 1, UInt64(st.st_ino))
    }

    private func wanted(_ entry: LogEntry) -> Bool {
        guard since != nil || until != nil else { return true }
        guard let time = Timestamp(rfc3339: entry.time) else { return true }
        if let since, time < since { return false }
        if let until, time >= until { return false }
        return true
    }

    /// Streams entries to `emit`: the last `tail` (all when nil) then, when `follow`, new ones
    /// until `stillRunning` returns false and the log has been read to its end. The file being
    /// followed is also held open, so what a container wrote before it exited still arrives
    /// when the container is removed before the next look (docker-py's `run(remove=True)`
    /// removes it before reading the stream).
    func stream(tail: Int?, follow: Bool, stillRunning: @Sendable () async -> Bool, emit: (LogEntry) async throws -> Void) async throws {
        guard let current = files.last else { return }
        var held = open(current, O_RDONLY | O_CLOEXEC)
        defer { if held >= 0 { close(held) } }
        var entries: [LogEntry] = []
        for rotated in files.dropLast() { entries += read(rotated, from: 0).entries }
        var (latest, offset, inode) = read(current, from: 0)
        entries += latest
        if let tail { entries = Array(entries.suffix(max(0, tail))) }
        for entry in entries { try await emit(entry) }
        guard follow else { return }
        while true {
            let running = await stillRunning()
            var st = stat()
            if stat(current, &st) == 0, let known = inode, UInt64(st.st_ino) != known {
                // Rotated: finish the old file (now `.1`), then start on the new one.
                if files.count > 1, let previous = files.dropLast().last {
                    let rest = read(previous, from: offset)
                    if rest.inode == known { for entry in rest.entries { try await emit(entry) } }
                }
                offset = 0
                inode = UInt64(st.st_ino)
            }
            let before = offset
            (latest, offset, inode) = read(current, from: offset)
            if inode == nil, held >= 0 {
                // Removed since the last look: the rest of the file it was.
                (latest, offset, _) = read(held, from: before)
            } else if let inode, Self.inode(of: held) != inode {
                if held >= 0 { close(held) }
                held = open(current, O_RDONLY | O_CLOEXEC)
            }
            for entry in latest { try await emit(entry) }
            if !running { return }
            if let until, Timestamp.now() >= until { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    private static func inode(of fd: Int32) -> UInt64? {
        var st = stat()
        return fd >= 0 && fstat(fd, &st) == 0 ? UInt64(st.st_ino) : nil
    }
}
