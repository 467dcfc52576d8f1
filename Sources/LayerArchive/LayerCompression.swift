/// How a written archive is compressed.
public enum LayerCompression: Sendable, Equatable {
    /// A plain tar (`application/vnd.oci.image.layer.v1.tar`).
    case plain
    /// gzip (`…layer.v1.tar+gzip`), without a timestamp in the gzip header so equal trees give
    /// equal digests.
    case gzip
    /// zstd (`…layer.v1.tar+zstd`).
    case zstd
}
