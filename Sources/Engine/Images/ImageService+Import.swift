import BerthSystem
import ContentStore
import Glibc
import LayerArchive
import OCI

extension ImageService {
    /// `docker import`: makes a one-layer image from a root filesystem tarball (plain, gzip or
    /// zstd) at `tarPath`, with `changes` applied to its defaults. Returns the image ID.
    public func importRootFS(tarPath: String, reference: String?, changes: [String], message: String?) throws -> Digest {
        let tags = try reference.map { [try Reference(parsing: $0)] } ?? []
        let defaults = try ConfigChanges.apply(changes, to: ContainerDefaults())
        let mediaType = try BlobCompression.mediaType(ofFileAt: tarPath)
        let stored = try content.importFile(tarPath)
        do {
            let now = Timestamp.now().rfc3339Nano
            let config = ImageConfig(
                config: defaults,
                rootfs: RootFS(diffIDs: [try diffID(of: stored.digest, mediaType: mediaType)]),
                history: [History(created: now, comment: message ?? "Imported from -")],
                created: now)
            let layer = Descriptor(mediaType: mediaType, digest: stored.digest, size: stored.size)
            return try register(config: config, layers: [layer], tags: tags)
        } catch {
            collectGarbage()
            throw error
        }
    }

    /// The diff ID of a stored layer blob: its own digest when it is an uncompressed tar (no
    /// second pass over the data); otherwise the digest of its decompressed stream, found by
    /// unpacking it once into a scratch directory.
    private func diffID(of blob: Digest, mediaType: String) throws -> Digest {
        if mediaType == MediaType.ociLayer { return blob }
        let probe = try makeTemporaryDirectory("import")
        defer { try? FileSystem.removeTree(probe) }
        return try LayerApplier().apply(layerAt: content.path(of: blob), to: probe).diffID
    }
}

/// Tells a layer blob's compression from its first bytes.
enum BlobCompression {
    static func mediaType(ofFileAt path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EngineError.failure("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b { return MediaType.ociLayerGzip }
        if n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] { return MediaType.ociLayerZstd }
        return MediaType.ociLayer
    }
}
