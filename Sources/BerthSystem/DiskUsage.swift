import Glibc

/// Disk space a directory tree occupies, as docker reports it for a container's writable layer
/// (`SizeRw`) and a volume (`UsageData.Size`): the allocated blocks of everything under it, hard
/// links counted once. The tree is walked through descriptors without following symlinks or
/// leaving it through one; entries that vanish meanwhile are skipped.
public enum DiskUsage {
    /// Bytes allocated under `path` (the directory itself excluded).
    public static func bytes(under path: String) throws -> Int64 {
        try sum(under: path) { Int64($0.st_blocks) * 512 }
    }

    /// Bytes of regular-file content under `path` (the sum of their sizes; what docker calls a
    /// layer's size, as opposed to the blocks it occupies).
    public static func contentBytes(under path: String) throws -> Int64 {
        try sum(under: path) { ($0.st_mode & S_IFMT) == S_IFREG ? Int64($0.st_size) : 0 }
    }

    /// `measure` summed over everything under `path`, each hard-linked inode once.
    private static func sum(under path: String, measure: (stat) -> Int64) throws -> Int64 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        var seen = Set<UInt64>()
        return sum(fd, seen: &seen, measure: measure)
    }

    private static func sum(_ dir: Int32, seen: inout Set<UInt64>, measure: (stat) -> Int64) -> Int64 {
        var total: Int64 = 0
        for name in names(dir) {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            if st.st_nlink > 1 && !seen.insert(UInt64(st.st_ino)).inserted { continue }
            total += measure(st)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else { continue }
                defer { close(sub) }
                total += sum(sub, seen: &seen, measure: measure)
            }
        }
        return total
    }

    /// The names in `dir` without `.` and `..`; empty when it cannot be read.
    private static func names(_ dir: Int32) -> [String] {
        let copy = dup(dir)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        var result: [String] = []
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { result.append(name) }
        }
        return result
    }
}
