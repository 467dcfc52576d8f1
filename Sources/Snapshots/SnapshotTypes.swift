import OCI

/// One layer to unpack: the diff ID the image config lists for it and where its blob is.
public struct LayerSource: Sendable, Equatable {
    /// sha256 of the layer's uncompressed tar, from the image config's `rootfs.diff_ids`.
    public var diffID: Digest
    /// Path of the layer blob (plain, gzip or zstd tar).
    public var path: String

    /// A layer with the given diff ID and blob path.
    public init(diffID: Digest, path: String) {
        self.diffID = diffID
        self.path = path
    }
}

/// What happened to a path in a container, with the numbers docker's API uses.
public enum ChangeKind: Int, Sendable, Equatable, Codable {
    /// The path existed in the image and was changed.
    case modified = 0
    /// The path did not exist in the image.
    case added = 1
    /// The path existed in the image and was removed.
    case deleted = 2
}

/// One entry of `docker diff`: an absolute path inside the container and what happened to it.
public struct Change: Sendable, Equatable, Codable {
    /// Absolute path inside the container, e.g. `/etc/hosts`.
    public var path: String
    /// Docker's change kind.
    public var kind: ChangeKind

    /// A change of `kind` at `path`.
    public init(path: String, kind: ChangeKind) {
        self.path = path
        self.kind = kind
    }
}
