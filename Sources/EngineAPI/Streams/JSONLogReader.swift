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
    /// until `stillRunning` returns false and the log has been read to its end. Following reads
    /// through an open descriptor, so what a container wrote before it exited still arrives
    /// when the container is removed before the next look (docker-py's `run(remove=True)`
    /// removes it before reading the stream), and a rotation is seen by comparing that open
    /// file with the one now at the log's path: the open file keeps its inode number, so a new
    /// log file can never be mistaken for it. A file rotated past in between is read too.
    func stream(tail: Int?, follow: Bool, stillRunning: @Sendable () async -> Bool, emit: (LogEntry) async throws -> Void) async throws {
        guard let current = files.last else { return }
        var held = open(current, O_RDONLY | O_CLOEXEC)
        defer { if held >= 0 { close(held) } }
        var entries: [LogEntry] = []
        for rotated in files.dropLast() { entries += read(rotated, from: 0).entries }
        var offset = 0
        if held >= 0 {
            let first = read(held, from: 0)
            entries += first.entries
            offset = first.next
        }
        if let tail { entries = Array(entries.suffix(max(0, tail))) }
        for entry in entries { try await emit(entry) }
        guard follow else { return }
        var idle: UInt64 = 10_000_000
        while true {
            let running = await stillRunning()
            var progressed = false
            if held >= 0 {
                let fresh = read(held, from: offset)
                for entry in fresh.entries { try await emit(entry) }
                progressed = fresh.next != offset
                offset = fresh.next
            }
            if let now = Self.inode(atPath: current), now != Self.inode(of: held) {
                // Rotated: the rest of the file held, any file rotated past since, then the new one.
                if held >= 0 {
                    for entry in read(held, from: offset).entries { try await emit(entry) }
                }
                if let previous = files.dropLast().last, let between = Self.inode(atPath: previous),
                   between != now, between != Self.inode(of: held) {
                    for entry in read(previous, from: 0).entries { try await emit(entry) }
                }
                if held >= 0 { close(held) }
                held = open(current, O_RDONLY | O_CLOEXEC)
                offset = 0
                progressed = true
            }
            if !running && !progressed { return }
            if let until, Timestamp.now() >= until { return }
            idle = progressed ? 10_000_000 : min(idle * 2, 100_000_000)
            try await Task.sleep(nanoseconds: idle)
        }
    }

    private static func inode(atPath path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    private static func inode(of fd: Int32) -> UInt64? {
        var st = stat()
        return fd >= 0 && fstat(fd, &st) == 0 ? UInt64(st.st_ino) : nil
    }
}
