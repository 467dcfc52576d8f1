import BerthSystem
import ContentDigest
import OCI
import Snapshots

extension ImageService {
    /// The cached step under `key`.
    func cachedStep(_ key: String) -> BuildCacheEntry? {
        buildCache.entry(key)
    }

    /// Records the steps a build made or used (one atomic replacement of the cache file).
    func recordCachedSteps(_ steps: [String: BuildCacheEntry]) throws {
        try buildCache.record(steps)
    }

    /// `docker builder prune`: drops the cached steps `include` accepts (every one with `all`,
    /// else those no image uses), removes what only they kept, and answers the dropped entries'
    /// keys with the bytes of layer blobs removed.
    public func pruneBuildCache(all: Bool, olderThan: Timestamp? = nil) -> (ids: [String], reclaimed: Int64) {
        var inImages = Set<Digest>()
        for record in table.images.values {
            (try? manifest(of: record))?.layers.forEach { inImages.insert($0.digest) }
        }
        let sizes = Dictionary(buildCache.entries.values.compactMap { entry in entry.layer.map { ($0.digest, $0.size) } }) { a, _ in a }
        let ids = (try? buildCache.remove { entry in
            if let olderThan, entry.lastUsed >= olderThan { return false }
            // Without `all`, what images do not share; steps without a layer hold no space.
            guard let layer = entry.layer else { return all }
            return all || !inImages.contains(layer.digest)
        }) ?? []
        let kept = Set(buildCache.entries.values.compactMap { $0.layer?.digest })
        collectGarbage()
        let reclaimed = sizes.filter { !kept.contains($0.key) && !inImages.contains($0.key) && !content.contains($0.key) }.values.reduce(0, +)
        return (ids, reclaimed)
    }

    /// One cached step that holds a layer, as `system df` lists it.
    public struct CachedLayerUsage: Sendable {
        public var id: String
        public var size: Int64
        /// Whether an image also has the layer (so removing the entry frees nothing).
        public var shared: Bool
        public var created: String
        public var lastUsed: Timestamp
    }

    /// The cached steps that hold a layer (`system df`'s build cache).
    public func buildCacheRecords() -> [CachedLayerUsage] {
        var inImages = Set<Digest>()
        for record in table.images.values {
            (try? manifest(of: record))?.layers.forEach { inImages.insert($0.digest) }
        }
        return buildCache.entries.compactMap { key, entry in
            entry.layer.map { CachedLayerUsage(id: key, size: $0.size, shared: inImages.contains($0.digest), created: entry.created, lastUsed: entry.lastUsed) }
        }.sorted { $0.id < $1.id }
    }

    /// Unpacks `layers` (base first; their blobs stored) and answers every chain ID, base
    /// first, keeping the blobs and chains from garbage collection until
    /// `unpin(blobs:chains:)` releases what the caller pinned here.
    func unpackPinned(_ layers: [BuildLayer]) throws -> [Digest] {
        let sources = layers.map { LayerSource(diffID: $0.diffID, path: content.path(of: $0.descriptor.digest)) }
        let chains = try snapshots.unpack(sources)
        pin(blobs: Set(layers.map(\.descriptor.digest)), chains: Set(chains))
        return chains
    }
}

extension ImageService {
    /// Releases what `unpackPinned(_:)` pinned for the same layers.
    func unpinLayers(_ layers: [BuildLayer]) {
        unpin(blobs: Set(layers.map(\.descriptor.digest)), chains: Set(chainIDs(of: layers.map(\.diffID))))
    }
}
