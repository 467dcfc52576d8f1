import BerthSystem
import Dispatch
import Glibc

/// Deletes directories nobody refers to any more without making the caller wait for it: each
/// is renamed into a trash directory on the same file system (instant, and gone from where
/// anyone looks) and removed there on a background thread. Where the rename fails the
/// directory is removed in place, as before. A daemon that stops before the background removal
/// ends leaves entries in the trash directory; `sweep` removes them at the next start.
enum Trash {
    /// Takes `path` away at once into `trash` and deletes it in the background; a `path` that
    /// does not exist is no error. Throws only when the fallback removal in place fails.
    static func discard(_ path: String, into trash: String) throws {
        let target = "\(trash)/\(UInt64.random(in: 0...UInt64.max))"
        if rename(path, target) == 0 {
            DispatchQueue.global(qos: .utility).async { try? FileSystem.removeTree(target) }
        } else if errno != ENOENT {
            try FileSystem.removeTree(path)
        }
    }

    /// Removes everything a previous daemon left in `trash`.
    static func sweep(_ trash: String) {
        for name in FileSystem.listDirectory(trash) { try? FileSystem.removeTree(trash + "/" + name) }
    }
}
