import Glibc

/// Why a layer could not be applied or written. Every case names the tar entry (or file) at
/// fault, so the message alone tells a user which layer content to look at.
public enum LayerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The layer file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The compressed stream or the tar structure is damaged (truncated, bad checksum, ...).
    case corruptArchive(path: String, reason: String)
    /// An entry's name leads outside the target directory through `..`.
    case pathEscapesRoot(entry: String)
    /// A hard link names a target outside the target directory, or one this layer did not create.
    case invalidHardlink(entry: String, target: String)
    /// A whiteout whose hidden name is empty, `.` or `..`.
    case invalidWhiteout(entry: String)
    /// An entry carries an extended attribute Berth refuses to take from a layer.
    case forbiddenXattr(entry: String, name: String)
    /// An entry's owner is not a valid Linux user or group ID.
    case invalidOwner(entry: String, uid: Int64, gid: Int64)
    /// An entry's path is longer than the limit.
    case pathTooLong(entry: String, limit: Int)
    /// An entry's metadata (path, link target and extended attributes together) is larger than
    /// the limit.
    case headerTooLarge(entry: String, limit: Int)
    /// The layer has more entries than the limit.
    case tooManyEntries(limit: Int)
    /// The uncompressed layer is larger than the limit.
    case sizeLimitExceeded(limit: Int64)
    /// An entry has a type a layer may not contain (e.g. a socket).
    case unsupportedEntryType(entry: String, type: String)
    /// A parent of the entry is not a directory of this layer: a file, or a symbolic link that
    /// does not lead to a directory inside the layer.
    case parentNotDirectory(entry: String)
    /// A system call failed while materialising or reading an entry.
    case fileSystem(entry: String, operation: String, errno: Int32)
    /// Writing the output archive failed.
    case writeFailed(path: String, reason: String)
    /// A file of a tree being archived was replaced (by another file, a FIFO, a device or a
    /// link) between reading its metadata and opening it: a running container changed it.
    case changedWhileReading(entry: String)
    /// An entry would replace a directory with a non-directory or the reverse, and the
    /// extraction forbids it (`docker cp`'s `noOverwriteDirNonDir`).
    case wouldReplace(entry: String, directoryWithNonDirectory: Bool)

    /// The failure as one sentence naming the entry or path to look at.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read layer \(path): \(reason)"
        case let .corruptArchive(path, reason):
            return "layer \(path) is not a valid tar archive: \(reason)"
        case let .pathEscapesRoot(entry):
            return "layer entry \"\(entry)\" escapes the layer root through '..'; refusing the layer"
        case let .invalidHardlink(entry, target):
            return "invalid hardlink \"\(entry)\" -> \"\(target)\": the target must be an earlier entry inside the layer"
        case let .invalidWhiteout(entry):
            return "invalid whiteout entry \"\(entry)\": the name it hides is empty, '.' or '..'"
        case let .forbiddenXattr(entry, name):
            return "layer entry \"\(entry)\" carries the extended attribute \(name), which only the overlay filesystem may set"
        case let .invalidOwner(entry, uid, gid):
            return "layer entry \"\(entry)\" has owner \(uid):\(gid), which is not a valid user and group ID"
        case let .pathTooLong(entry, limit):
            return "layer entry \"\(entry.prefix(120))...\" has a path longer than \(limit) bytes"
        case let .headerTooLarge(entry, limit):
            return "layer entry \"\(entry.prefix(120))\" has more than \(limit) bytes of metadata"
        case let .tooManyEntries(limit):
            return "layer has more than \(limit) entries"
        case let .sizeLimitExceeded(limit):
            return "layer is larger than \(limit) bytes uncompressed"
        case let .unsupportedEntryType(entry, type):
            return "layer entry \"\(entry)\" is a \(type), which a layer may not contain"
        case let .wouldReplace(entry, directoryWithNonDirectory):
            return directoryWithNonDirectory
                ? "cannot overwrite directory \"\(entry)\" with non-directory"
                : "cannot overwrite non-directory \"\(entry)\" with directory"
        case let .parentNotDirectory(entry):
            return "a parent of layer entry \"\(entry)\" is not a directory inside the layer (a file, or a symbolic link that leads nowhere in this layer)"
        case let .fileSystem(entry, operation, code):
            return "\(operation) for layer entry \"\(entry)\" failed: \(String(cString: strerror(code)))"
        case let .writeFailed(path, reason):
            return "cannot write layer \(path): \(reason)"
        case let .changedWhileReading(entry):
            return "\"\(entry)\" was replaced while the layer was being written (the container changed it); try again, or pause the container"
        }
    }
}
