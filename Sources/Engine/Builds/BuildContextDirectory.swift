import BerthSystem
import Glibc

/// Where one build's context is unpacked. A context that fits the memory allowance gets a
/// tmpfs of its own, mounted for the build under the daemon's temporary directory and
/// unmounted when it ends: its thousands of files cost no disk inode each, and nothing of it
/// outlives the build. A larger one (or any, with an allowance of 0) is unpacked on disk.
/// Layers built from it are written to disk either way.
public struct BuildContextDirectory: Sendable {
    /// The directory the context is unpacked into.
    public let path: String
    /// Whether `path` is a tmpfs of this build's own.
    public let inMemory: Bool

    /// The allowance when none is configured: a sixteenth of the machine's memory, at most 1 GiB.
    public static var defaultMemoryLimit: Int64 {
        let pages = Int64(sysconf(Int32(_SC_PHYS_PAGES))), pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        return min(max(0, pages * pageSize / 16), 1 << 30)
    }

    /// A new directory under `temporaryRoot` for a context sent as `bodyBytes` bytes: in
    /// memory when they are within `memoryLimit` (the tmpfs may hold that much) and the mount
    /// succeeds, else on disk.
    public static func make(in temporaryRoot: String, bodyBytes: Int64, memoryLimit: Int64) throws -> BuildContextDirectory {
        let path = "\(temporaryRoot)/build-context-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectories(path, mode: 0o700)
        guard memoryLimit > 0, bodyBytes <= memoryLimit else { return BuildContextDirectory(path: path, inMemory: false) }
        let flags = UInt(MS_NOSUID) | UInt(MS_NODEV)
        guard mount("tmpfs", path, "tmpfs", flags, "size=\(memoryLimit),mode=0700") == 0 else {
            return BuildContextDirectory(path: path, inMemory: false)
        }
        return BuildContextDirectory(path: path, inMemory: true)
    }

    /// The same directory on disk instead (the context did not fit in memory after all: it
    /// was compressed, or grew past the allowance): what was unpacked is dropped.
    public func onDisk() throws -> BuildContextDirectory {
        remove()
        try FileSystem.makeDirectories(path, mode: 0o700)
        return BuildContextDirectory(path: path, inMemory: false)
    }

    /// Unmounts (in memory) or deletes (on disk) the directory and what it holds.
    public func remove() {
        if inMemory { umount2(path, Int32(MNT_DETACH)) }
        try? FileSystem.removeTree(path)
    }

    /// Removes what a daemon that died during builds left under `temporaryRoot`, mounts first.
    static func removeStale(in temporaryRoot: String) {
        for stale in FileSystem.listDirectory(temporaryRoot) {
            let path = temporaryRoot + "/" + stale
            if stale.hasPrefix("build-context-") { umount2(path, Int32(MNT_DETACH)) }
            try? FileSystem.removeTree(path)
        }
    }
}
