#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import OCI

/// What one cached build step produced: its history entry's time, and the layer it added (nil
/// for a step that only changed the configuration). A step found here is not run again, and
/// its time is reused, so a build whose every step is cached makes the same image ID.
struct BuildCacheEntry: Codable, Sendable, Equatable {
    var created: String
    var layer: Descriptor?
    var diffID: Digest?
    /// The chain ID of the step's layer over its parents (kept unpacked with it).
    var chainID: Digest?
    /// When a build last used the entry.
    var lastUsed: Timestamp
}

/// The build cache: steps by their cache key (a digest of the parent step's key, the
/// instruction with everything it resolved to, and the content it copies). Persisted at
/// `<metadata>/build-cache.json`, replaced atomically; blobs and layer chains of its entries are
/// garbage-collection roots of the image store until `builder prune` drops them.
struct BuildCache: Sendable {
    private(set) var entries: [String: BuildCacheEntry] = [:]
    private let path: String

    init(path: String) throws {
        self.path = path
        guard FileSystem.exists(path) else { return }
        do {
            entries = try JSONDecoder().decode([String: BuildCacheEntry].self, from: Data(try FileSystem.readFile(path)))
        } catch {
            // The cache only saves time: an unreadable one is dropped, never trusted.
            entries = [:]
        }
    }

    func entry(_ key: String) -> BuildCacheEntry? { entries[key] }

    mutating func record(_ entries: [String: BuildCacheEntry]) throws {
        guard !entries.isEmpty else { return }
        var updated = self.entries
        updated.merge(entries) { $1 }
        try save(updated)
        self.entries = updated
    }

    /// Drops the entries `include` accepts; answers their keys.
    mutating func remove(where include: (BuildCacheEntry) -> Bool) throws -> [String] {
        let dropped = entries.filter { include($0.value) }.keys.sorted()
        guard !dropped.isEmpty else { return [] }
        var kept = entries
        for key in dropped { kept[key] = nil }
        try save(kept)
        entries = kept
        return dropped
    }

    private func save(_ entries: [String: BuildCacheEntry]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(path, bytes: Array(try encoder.encode(entries)), mode: 0o600)
    }
}
