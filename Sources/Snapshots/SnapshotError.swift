import Glibc
import OCI

/// Why a snapshot operation failed, with what a user needs to act on it.
public enum SnapshotError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A layer's uncompressed content does not hash to the diff ID the image config promised.
    case diffIDMismatch(layer: String, expected: Digest, actual: Digest)
    /// The snapshotter root is relative or holds a character overlay mount options cannot carry.
    case unsupportedRoot(String)
    /// A chain ID names no unpacked layer.
    case layerNotFound(Digest)
    /// A container ID is not a safe single path component.
    case invalidContainerID(String)
    /// `prepare` was called twice for one container.
    case containerExists(String)
    /// No snapshot was prepared for the container.
    case containerNotFound(String)
    /// A snapshotter metadata file does not hold a chain ID.
    case corruptMetadata(path: String)
    /// A file-system call failed.
    case fileSystem(operation: String, path: String, errno: Int32)

    /// The failure as one sentence naming the entry or path to look at.
    public var description: String {
        switch self {
        case let .diffIDMismatch(layer, expected, actual):
            return "layer \(layer) has diff ID \(actual), but the image config expects \(expected); the image is corrupt or was tampered with"
        case let .unsupportedRoot(path):
            return "snapshot root \(path) must be an absolute path without ',', ':' or '\\'"
        case let .layerNotFound(chainID):
            return "no unpacked layer with chain ID \(chainID); pull the image again"
        case let .invalidContainerID(id):
            return "\"\(id)\" is not a valid container ID (letters, digits, '_', '.', '-' only)"
        case let .containerExists(id):
            return "a snapshot for container \(id) already exists"
        case let .containerNotFound(id):
            return "no snapshot for container \(id)"
        case let .corruptMetadata(path):
            return "snapshot metadata \(path) is damaged; remove the container or layer and pull again"
        case let .fileSystem(operation, path, code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code)))"
        }
    }
}
