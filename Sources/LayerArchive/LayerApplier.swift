import CArchive
import Glibc
import OCI

/// What applying a layer produced.
public struct AppliedLayer: Sendable, Equatable {
    /// sha256 of the uncompressed tar stream (image-spec config.md, "Layer DiffID").
    public var diffID: Digest
    /// Bytes of the uncompressed tar stream.
    public var uncompressedSize: Int64
    /// Bytes of file content the layer holds (the sum of its regular files' sizes, hard links
    /// counted once): docker's layer "size" (`DiffSize`).
    public var contentSize: Int64

    /// A result with the given values.
    public init(diffID: Digest, uncompressedSize: Int64, contentSize: Int64) {
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.contentSize = contentSize
    }
}

/// Unpacks layer tars onto a directory as an overlayfs lower layer.
///
/// Guarantees: nothing outside the target directory is ever created, modified or removed,
/// whatever the layer holds (`..` names, absolute names, symbolic links to `/`, hard links
/// outward, whiteouts through links); the layer is read once, decompressed in-process, and its
/// diff ID computed in that same pass. On error the target directory may hold part of the
/// layer: callers unpack into a temporary directory and remove it on failure.
public struct LayerApplier: Sendable {
    /// The bounds enforced while unpacking.
    public let limits: LayerLimits

    /// An applier enforcing `limits`.
    public init(limits: LayerLimits = .default) {
        self.limits = limits
    }

    /// Unpacks a layer tar (plain, gzip or zstd; detected from content) into `directory`,
    /// converting OCI whiteouts to overlayfs whiteouts (image-spec layer.md, "Whiteouts"): a
    /// `.wh.NAME` entry becomes a 0/0 character device `NAME`, `.wh..wh..opq` sets
    /// `trusted.overlay.opaque=y` on its directory, other `.wh..wh.` (AUFS) entries are
    /// ignored. Later entries replace earlier ones of the same name (a directory over a
    /// directory merges). Ownership, modes (setuid included), times, extended attributes,
    /// device nodes and fifos are preserved. Returns the layer's diff ID (sha256 of the
    /// uncompressed tar) and its uncompressed size.
    public func apply(layerAt path: String, to directory: String) throws -> AppliedLayer {
        try apply(.file(path), to: directory)
    }

    /// `apply(layerAt:to:)` for a layer read from `input` (a file, or a stream such as a pipe
    /// fed while the layer downloads).
    public func apply(_ input: LayerInput, to directory: String) throws -> AppliedLayer {
        try unpack(input, to: directory, options: .layer)
    }

    /// Unpacks a plain archive (`docker cp`'s upload) into `directory` with the same safety
    /// rules as a layer (nothing leaves the directory, no link is followed), but without layer
    /// semantics: `.wh.` entries are ordinary files. Owners are `options.owner` of the
    /// archived ones; with `options.noOverwriteDirNonDir`, replacing a directory with a
    /// non-directory (or the reverse) is an error.
    public func extract(archiveAt path: String, into directory: String, options: ExtractionOptions) throws {
        _ = try unpack(.file(path), to: directory, options: options)
    }

    private func unpack(_ input: LayerInput, to directory: String, options: ExtractionOptions) throws -> AppliedLayer {
        let path = input.name
        let stream = try DecompressedStream(input: input, limit: limits.maxUncompressedSize)
        let reader = try TarReader(stream: stream, path: path)
        let tree = try RootedTree(path: directory)
        var unpacker = EntryUnpacker(tree: tree, reader: reader, limits: limits, options: options)
        var count = 0
        var contentSize: Int64 = 0
        while let entry = try reader.next() {
            count += 1
            guard count <= limits.maxEntries else { throw LayerError.tooManyEntries(limit: limits.maxEntries) }
            if archive_entry_hardlink(entry) == nil && archive_entry_filetype(entry) == Glibc.S_IFREG {
                contentSize += max(0, archive_entry_size(entry))
            }
            try unpacker.unpack(entry)
        }
        try stream.drain()
        unpacker.finish()
        return AppliedLayer(diffID: stream.hasher.finalize(), uncompressedSize: stream.hasher.count, contentSize: contentSize)
    }
}

/// How `LayerApplier.extract` treats what it unpacks.
public struct ExtractionOptions: Sendable {
    /// Whether `.wh.` entries are OCI whiteouts (layers) rather than ordinary files.
    public var whiteouts: Bool
    /// The owner each entry gets, from the owner it has in the archive.
    public var owner: @Sendable (uid_t, gid_t) -> (uid_t, gid_t)
    /// Refuse to replace a directory with a non-directory, or the reverse.
    public var noOverwriteDirNonDir: Bool
    /// Permission bits every entry gets instead of its archived ones (a build's `COPY --chmod`);
    /// nil: as archived. Symbolic links keep theirs.
    public var permissions: mode_t?

    public init(whiteouts: Bool = false, noOverwriteDirNonDir: Bool = false, permissions: mode_t? = nil,
                owner: @escaping @Sendable (uid_t, gid_t) -> (uid_t, gid_t) = { ($0, $1) }) {
        self.whiteouts = whiteouts
        self.owner = owner
        self.noOverwriteDirNonDir = noOverwriteDirNonDir
        self.permissions = permissions
    }

    /// An image layer: whiteouts, owners as archived, anything replaced.
    static let layer = ExtractionOptions(whiteouts: true)
}
