#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentStore
import Glibc
import OCI

/// Mark and sweep over a registry root (`berth-registry gc`).
///
/// Marks every manifest a repository holds, and the config, layers and child manifests each one
/// names; removes every stored blob nothing marked, and repository links to removed blobs.
/// Manifests are removed only with `deleteUntagged`: then a manifest no tag reaches (directly,
/// through an index, or as a referrer of one that is kept) is unlinked first. Blobs uploaded but
/// not yet named by a manifest are garbage: a push in progress would lose them, which is why
/// the collector takes the root's lock and refuses to run beside a server.
public struct RegistryGarbageCollector {
    /// What a collection removed (or, in a dry run, would remove).
    public struct Report: Sendable, Equatable {
        /// Blobs removed from the store, in order.
        public var removedBlobs: [Digest] = []
        /// Manifests unlinked, as `<repository>@<digest>`, in order.
        public var removedManifests: [String] = []
        /// Bytes the removed blobs took.
        public var freedBytes: Int64 = 0
    }

    let storage: RegistryStorage

    /// Collects garbage under `root`; throws when a server holds the root.
    public static func collect(root: String, deleteUntagged: Bool, dryRun: Bool) throws -> Report {
        let lock = try RootLock(root: root)
        defer { lock.release() }
        return try RegistryGarbageCollector(storage: RegistryStorage(root: root)).collect(deleteUntagged: deleteUntagged, dryRun: dryRun)
    }

    func collect(deleteUntagged: Bool, dryRun: Bool) -> Report {
        var report = Report()
        var marked: Set<Digest> = []
        for name in storage.repositories() {
            var revisions = Set(revisionDigests(name))
            if deleteUntagged {
                let kept = reachable(name, from: revisions)
                for digest in revisions.subtracting(kept) {
                    report.removedManifests.append("\(name)@\(digest)")
                    if !dryRun { try? storage.deleteManifest(name, .digest(digest)) }
                }
                revisions = kept
            }
            for digest in revisions {
                marked.insert(digest)
                guard let document = document(digest) else { continue }
                for child in (document.config.map { [$0] } ?? []) + (document.layers ?? []) + (document.manifests ?? []) {
                    marked.insert(child.digest)
                }
            }
        }
        for digest in storage.content.list() where !marked.contains(digest) {
            report.removedBlobs.append(digest)
            report.freedBytes += storage.content.size(of: digest) ?? 0
            if !dryRun { try? storage.content.delete(digest) }
        }
        if !dryRun {
            for name in storage.repositories() {
                for digest in linkedBlobs(name) where !storage.content.contains(digest) { _ = try? storage.unlinkBlob(name, digest) }
            }
        }
        report.removedBlobs.sort()
        report.removedManifests.sort()
        return report
    }

    /// The revisions of `name` reachable from its tags: tagged manifests, the children of tagged
    /// indexes, and manifests whose subject is reachable.
    private func reachable(_ name: String, from revisions: Set<Digest>) -> Set<Digest> {
        var kept: Set<Digest> = []
        var queue = ((try? storage.tags(name)) ?? []).compactMap { storage.resolve(name, tag: $0) }
        while let digest = queue.popLast() {
            guard revisions.contains(digest), kept.insert(digest).inserted else { continue }
            queue += (document(digest)?.manifests ?? []).map(\.digest)
            queue += storage.referrers(name, subject: digest, artifactType: nil).map(\.digest)
        }
        return kept
    }

    private func document(_ digest: Digest) -> ManifestDocument? {
        guard let data = try? storage.content.read(digest, maximumSize: Int64(RegistryStorage.manifestLimit)) else { return nil }
        return try? JSONDecoder().decode(ManifestDocument.self, from: data)
    }

    private func revisionDigests(_ name: String) -> [Digest] {
        FileSystem.listDirectory(storage.repositoryPath(name) + "/_manifests/revisions/sha256").compactMap { try? Digest(sha256Hex: $0) }
    }

    private func linkedBlobs(_ name: String) -> [Digest] {
        FileSystem.listDirectory(storage.repositoryPath(name) + "/_layers/sha256").compactMap { try? Digest(sha256Hex: $0) }
    }
}
