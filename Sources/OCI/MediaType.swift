/// Media types of the OCI image spec (media-types.md) and Docker's schema 2, as accepted by Berth.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    /// The empty JSON object `{}`: the config of an artifact manifest (image-spec 1.1).
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// Whether `mediaType` names an image manifest (OCI or Docker schema 2).
    public static func isManifest(_ mediaType: String) -> Bool {
        mediaType == ociManifest || mediaType == dockerManifest
    }

    /// Whether `mediaType` names an index or manifest list.
    public static func isIndex(_ mediaType: String) -> Bool {
        mediaType == ociIndex || mediaType == dockerManifestList
    }

    /// Whether `mediaType` names a layer Berth can unpack.
    public static func isLayer(_ mediaType: String) -> Bool {
        [ociLayer, ociLayerGzip, ociLayerZstd, dockerLayerGzip,
         "application/vnd.oci.image.layer.nondistributable.v1.tar",
         "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
         "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"].contains(mediaType)
    }
}
