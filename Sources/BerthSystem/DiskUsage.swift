import Glibc

/// Disk space a directory tree occupies, as docker reports it for a container's writable layer
/// (`SizeRw`) and a volume (`UsageData.Size`): the allocated blocks of everything under it, hard
/// links counted once. The tree is walked through descriptors without following symlinks or
/// leaving it through one; entries that vanish meanwhile are skipped.
public enum DiskUsage {
    /// Bytes allocated under `path` (the directory itself excluded).
    public static func bytes(under path: String) throws -> Int64 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        var seen = Set<UInt64>()
        return blocks(fd, seen: &seen) * 512
    }

    private static func blocks(_ dir: Int32, seen: inout Set<UInt64>) -> Int64 {
        var total: Int64 = 0
        for name in names(dir) {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            if st.st_nlink > 1 && !seen.insert(UInt64(st.st_ino)).inserted { continue }
            total += Int64(st.st_blocks)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else { continue }
                defer { close(sub) }
                total += blocks(sub, seen: &seen)
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
