/// Bounds on what one layer may contain, so a hostile layer (a decompression bomb, millions of
/// entries, megabyte headers) fails cleanly instead of exhausting disk, memory or time.
public struct LayerLimits: Sendable, Equatable {
    /// Most entries (files, dirs, links, whiteouts) one layer may hold.
    public var maxEntries: Int
    /// Longest entry path, in bytes, after normalisation.
    public var maxPathLength: Int
    /// Largest metadata of one entry: path, link target and extended attributes, in bytes.
    public var maxHeaderBytes: Int
    /// Largest uncompressed tar stream, in bytes.
    public var maxUncompressedSize: Int64

    /// Limits chosen so every real image fits: 1 M entries, 4 KiB paths, 1 MiB of metadata per
    /// entry, 64 GiB uncompressed.
    public static let `default` = LayerLimits(maxEntries: 1_000_000, maxPathLength: 4096,
                                              maxHeaderBytes: 1 << 20, maxUncompressedSize: 64 << 30)

    /// Limits with the given bounds.
    public init(maxEntries: Int, maxPathLength: Int, maxHeaderBytes: Int, maxUncompressedSize: Int64) {
        self.maxEntries = maxEntries
        self.maxPathLength = maxPathLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxUncompressedSize = maxUncompressedSize
    }
}
