#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentStore
import ContentDigest
import OCI
import Snapshots

/// The local images: their table of records and tags, and the operations that add or remove
/// them. Guarantees: an image becomes visible (listed, resolvable, tagged) only after all its
/// blobs are stored and verified and all its layers unpacked; the table is replaced atomically;
/// a failed operation leaves the table as it was.
public actor ImageService {
    let content: ContentStore
    let snapshots: OverlaySnapshotter
    private let tableFile: ImageTableFile
    private(set) var table: ImageTable
    /// Blobs and layer chains that pulls in flight have fetched but not recorded yet, with how
    /// many pulls hold each: garbage collection leaves them alone.
    var pinnedBlobs: [Digest: Int] = [:]
    var pinnedChains: [Digest: Int] = [:]
    /// Steps of earlier builds; their layers are kept like an image's.
    var buildCache: BuildCache
    let temporaryRoot: String

    public init(configuration: EngineConfiguration, content: ContentStore, snapshots: OverlaySnapshotter) throws {
        self.content = content
        self.snapshots = snapshots
        self.tableFile = ImageTableFile(path: configuration.metadataRoot + "/images.json")
        self.table = try tableFile.load()
        self.buildCache = try BuildCache(path: configuration.metadataRoot + "/build-cache.json")
        self.temporaryRoot = configuration.temporaryRoot
    }

    // MARK: Reading

    /// All images with their tags, newest first.
    public func list() -> [(record: ImageRecord, tags: [String])] {
        table.images.values.sorted { $0.created > $1.created }.map { ($0, table.tags(of: $0.id)) }
    }

    /// Tags pointing at `id`.
    public func tags(of id: Digest) -> [String] { table.tags(of: id) }

    /// Finds an image by reference (`busybox`, `example/bb:1`), full ID (`sha256:…`) or unique ID
    /// prefix. Throws `noSuchImage` naming the reference as docker does (`x:latest`).
    public func resolve(_ name: String) throws -> ImageRecord {
        if let record = lookup(name) { return record }
        let shown = (try? Reference(parsing: name))?.familiar ?? name
        throw EngineError.noSuchImage(shown)
    }

    private func lookup(_ name: String) -> ImageRecord? {
        if let digest = try? Digest(parsing: name), let record = table.images[digest.description] {
            return record
        }
        if let reference = try? Reference(parsing: name) {
            if reference.digest == nil, let id = table.tags[reference.familiar], let record = table.images[id.description] {
                return record
            }
            // `repository@sha256:…`: an image pulled or pushed by that repo digest.
            if let digest = reference.digest {
                let wanted = "\(reference.familiarRepository)@\(digest)"
                if let record = table.images.values.first(where: { ($0.repoDigests ?? []).contains(wanted) }) { return record }
            }
        }
        let hex = name.hasPrefix("sha256:") ? String(name.dropFirst(7)) : name
        if hex.count >= 4, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
            let matches = table.images.values.filter { $0.id.encoded.hasPrefix(hex) }
            if matches.count == 1 { return matches[0] }
        }
        return nil
    }

    /// The manifest of a local image.
    public func manifest(of record: ImageRecord) throws -> Manifest {
        try Manifest.decode(content.read(record.manifest))
    }

    /// The configuration of a local image.
    public func config(of record: ImageRecord) throws -> ImageConfig {
        try ImageConfig.decode(content.read(record.id))
    }

    /// An image's size as docker reports `Size`: the content of its layers, uncompressed.
    public func size(of record: ImageRecord) -> Int64 {
        layerSizes(of: record).reduce(0, +)
    }

    /// Each layer's size, base first: the bytes of file content it holds once unpacked (docker's
    /// layer size, which `history` shows), or its compressed blob's size for a layer not unpacked.
    public func layerSizes(of record: ImageRecord) -> [Int64] {
        guard let manifest = try? manifest(of: record) else { return [] }
        let diffIDs = (try? config(of: record))?.rootfs.diff_ids ?? []
        let chains = diffIDs.count == manifest.layers.count ? chainIDs(of: diffIDs) : []
        return manifest.layers.enumerated().map { index, layer in
            (index < chains.count ? snapshots.contentSize(chainID: chains[index]) : nil) ?? layer.size
        }
    }

    /// Ensures the image's layers are unpacked and returns the chain ID of the top layer (nil for
    /// an image without layers).
    public func topChainID(of record: ImageRecord) throws -> Digest? {
        let manifest = try manifest(of: record)
        let config = try config(of: record)
        return try unpack(manifest: manifest, config: config).last
    }

    func unpack(manifest: Manifest, config: ImageConfig) throws -> [Digest] {
        guard manifest.layers.count == config.rootfs.diff_ids.count else {
            throw EngineError.failure("image has \(manifest.layers.count) layers but its config lists \(config.rootfs.diff_ids.count) diff IDs")
        }
        let sources = zip(manifest.layers, config.rootfs.diff_ids).map { layer, diffID in
            LayerSource(diffID: diffID, path: content.path(of: layer.digest))
        }
        return try snapshots.unpack(sources)
    }

    // MARK: Writing

    /// Stores `config` and a manifest over `layers` (whose blobs must already be in the content
    /// store), unpacks the layers, then records the image and points `tags` at it, in one
    /// atomic table update. Returns the image ID.
    @discardableResult
    public func register(config: ImageConfig, layers: [Descriptor], tags: [Reference]) throws -> Digest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let configBytes = try encoder.encode(config)
        let configStored = try content.write(configBytes)
        let manifest = Manifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configStored.digest, size: configStored.size),
            layers: layers)
        let manifestStored = try content.write(try encoder.encode(manifest))
        _ = try unpack(manifest: manifest, config: config)
        let created = config.created.flatMap(Timestamp.init(rfc3339:)) ?? Timestamp.now()
        return try commitRecord(id: configStored.digest, manifest: manifestStored.digest, mediaType: MediaType.ociManifest, created: created, tags: tags)
    }

    /// Records an image whose manifest and config are already stored and verified (load, pull).
    /// A `repoDigest` (`repository@sha256:…`) replaces any earlier one of the same repository.
    @discardableResult
    func commitRecord(id: Digest, manifest: Digest, mediaType: String, created: Timestamp, tags: [Reference], repoDigest: String? = nil) throws -> Digest {
        var updated = table
        var record = updated.images[id.description] ?? ImageRecord(id: id, manifest: manifest, manifestMediaType: mediaType, created: created)
        if !tags.isEmpty { record.lastTagTime = Timestamp.now() }
        if let repoDigest, let at = repoDigest.firstIndex(of: "@") {
            let repository = repoDigest[..<at]
            record.repoDigests = (record.repoDigests ?? []).filter { !$0.hasPrefix(repository + "@") } + [repoDigest]
        }
        updated.images[id.description] = record
        for tag in tags { updated.tags[tag.familiar] = id }
        try tableFile.save(updated)
        table = updated
        return id
    }

    /// Points `target` at the image named `source`.
    public func tag(_ source: String, as target: String) throws {
        let record = try resolve(source)
        let reference: Reference
        do {
            reference = try Reference(parsing: target)
        } catch {
            throw EngineError.invalidParameter("\(error)")
        }
        guard reference.digest == nil else { throw EngineError.invalidParameter("refusing to create a tag with a digest reference") }
        try commitRecord(id: record.id, manifest: record.manifest, mediaType: record.manifestMediaType, created: record.created, tags: [reference])
    }

    /// One line of docker's `rmi` answer.
    public enum Removal: Sendable, Equatable {
        case untagged(String)
        case deleted(Digest)
    }

    /// Removes a tag, or the image when `name` is an ID or its last tag. `user` tells which
    /// container (if any) uses an image; such images are only untagged, never deleted, and
    /// without `force` an image in use by a container is refused.
    public func remove(_ name: String, force: Bool, user: @Sendable (Digest) async -> String?) async throws -> [Removal] {
        let record = try resolve(name)
        var updated = table
        var removals: [Removal] = []
        let byReference = (try? Reference(parsing: name)).flatMap { updated.tags[$0.familiar] == record.id ? $0 : nil }
        let allTags = updated.tags(of: record.id)
        if let container = await user(record.id), !force {
            if let byReference, allTags.count > 1 {
                updated.tags[byReference.familiar] = nil
                try tableFile.save(updated)
                table = updated
                return [.untagged(byReference.familiar)]
            }
            throw EngineError.imageInUse(reference: byReference?.familiar ?? name, imageID: record.id.encoded, containerID: container)
        }
        if let byReference, allTags.count > 1 && !force {
            updated.tags[byReference.familiar] = nil
            removals.append(.untagged(byReference.familiar))
        } else {
            if !allTags.isEmpty, byReference == nil, allTags.count > 1, !force {
                throw EngineError.conflict("conflict: unable to delete \(record.id.shortID) (must be forced) - image is referenced in multiple repositories")
            }
            for tag in allTags {
                updated.tags[tag] = nil
                removals.append(.untagged(tag))
            }
            if await user(record.id) == nil {
                updated.images[record.id.description] = nil
                removals.append(.deleted(record.id))
            }
        }
        try tableFile.save(updated)
        table = updated
        if removals.contains(.deleted(record.id)) { collectGarbage() }
        return removals
    }

    /// Removes blobs and unpacked layers no image refers to any more. Best effort: a failure
    /// leaves garbage, never a dangling reference.
    func collectGarbage() {
        var liveBlobs = Set<Digest>()
        var liveChains = Set<Digest>()
        for record in table.images.values {
            liveBlobs.insert(record.id)
            liveBlobs.insert(record.manifest)
            guard let manifest = try? manifest(of: record), let config = try? config(of: record) else { continue }
            manifest.layers.forEach { liveBlobs.insert($0.digest) }
            chainIDs(of: config.rootfs.diff_ids).forEach { liveChains.insert($0) }
        }
        for entry in buildCache.entries.values {
            if let layer = entry.layer { liveBlobs.insert(layer.digest) }
            if let chain = entry.chainID { liveChains.insert(chain) }
        }
        for blob in content.list() where !liveBlobs.contains(blob) && pinnedBlobs[blob] == nil { try? content.delete(blob) }
        for chain in snapshots.layerChainIDs() where !liveChains.contains(chain) && pinnedChains[chain] == nil {
            try? snapshots.removeLayer(chainID: chain)
        }
    }

    /// A fresh directory for staging work; the caller removes it.
    func makeTemporaryDirectory(_ purpose: String) throws -> String {
        let dir = "\(temporaryRoot)/\(purpose)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectories(dir, mode: 0o700)
        return dir
    }
}

extension ImageService {
    /// `docker image prune`: removes the images `include` accepts that no container uses —
    /// untagged ones only unless `all` — and answers what was untagged and deleted with the
    /// bytes of layer blobs no remaining image refers to.
    public func prune(all: Bool, include: (ImageRecord, [String]) async -> Bool,
                      user: @Sendable (Digest) async -> String?) async -> (removals: [Removal], reclaimed: Int64) {
        let layersBefore = layerBlobSizes()
        var removals: [Removal] = []
        for (record, tags) in list() where all || tags.isEmpty {
            guard await user(record.id) == nil, await include(record, tags) else { continue }
            if let removed = try? await remove(record.id.description, force: true, user: user) { removals += removed }
        }
        let layersAfter = layerBlobSizes()
        let reclaimed = layersBefore.filter { layersAfter[$0.key] == nil }.values.reduce(0, +)
        return (removals, reclaimed)
    }

    /// Every layer blob some image refers to, with its size.
    private func layerBlobSizes() -> [Digest: Int64] {
        var sizes: [Digest: Int64] = [:]
        for record in table.images.values {
            guard let manifest = try? manifest(of: record) else { continue }
            for layer in manifest.layers { sizes[layer.digest] = layer.size }
        }
        return sizes
    }
}
