#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import OCI
import Registry
import Synchronization

/// Applies queued changes to one destination, idempotently: everything is looked for before it
/// is sent (a blob by `HEAD`, a manifest or tag by its digest), blobs are mounted from another
/// repository of the destination that has them, and manifests are sent by digest, after
/// everything they reference, before a tag moves to them. A change the source no longer agrees
/// with is skipped (a later change in the queue carries the source's present state).
final class DestinationWriter: Sendable {
    let destination: ReplicationDestination
    let source: any ReplicationSource
    /// Which repository of the destination last received each blob, for cross-repository mounts.
    private let placements = Mutex<[Digest: String]>([:])
    private let clients = Mutex<[String: RegistryClient]>([:])

    /// How deep an index may nest indexes.
    static let nestingLimit = 4

    init(destination: ReplicationDestination, source: any ReplicationSource) {
        self.destination = destination
        self.source = source
    }

    private func client(_ repository: String) -> RegistryClient {
        clients.withLock { known in
            if let client = known[repository] { return client }
            let client = RegistryClient(endpoint: destination.endpoint, repository: repository, credentials: destination.credentials)
            known[repository] = client
            return client
        }
    }

    /// Makes the destination agree with the source about the object `event` names. Throws
    /// `SourceDisagrees` when the source's present state is not what the event says (the write
    /// is not visible yet, never became visible, or was changed again since).
    func apply(_ event: ReplicationEvent) async throws {
        let repository = event.change.repository
        let client = client(repository)
        switch event.change.action {
        case .blob(let digest):
            guard let size = try await source.blobSize(repository, digest) else { throw SourceDisagrees() }
            try await ensureBlob(repository, Descriptor(mediaType: "application/octet-stream", digest: digest, size: size))
        case .manifest(let digest):
            guard try await ensureManifest(repository, digest, depth: 0) != nil else { throw SourceDisagrees() }
        case .tag(let tag, let digest):
            guard try await source.tag(repository, tag) == digest else { throw SourceDisagrees() }
            if try await client.manifestDigest(tag) == digest { return }
            guard let manifest = try await ensureManifest(repository, digest, depth: 0) else { throw SourceDisagrees() }
            try await client.pushManifest(manifest.bytes, mediaType: manifest.mediaType, reference: tag)
        case .deleteTag(let tag):
            guard try await source.tag(repository, tag) == nil else { throw SourceDisagrees() }
            do {
                try await client.deleteManifest(tag)
            } catch RegistryError.unexpectedStatus(let code, _, _) where code == 400 || code == 405 {
                try await untagByManifest(repository, tag)
            }
        case .deleteManifest(let digest):
            guard try await source.manifest(repository, digest) == nil else { throw SourceDisagrees() }
            try await client.deleteManifest(digest.description)
        case .deleteBlob(let digest):
            guard try await source.blobSize(repository, digest) == nil else { throw SourceDisagrees() }
            try await client.deleteBlob(digest)
        case .deleteDigest(let digest):
            let manifestGone = try await source.manifest(repository, digest) == nil
            let blobGone = try await source.blobSize(repository, digest) == nil
            guard manifestGone || blobGone else { throw SourceDisagrees() }
            if manifestGone, try await client.manifestDigest(digest.description) != nil {
                try await client.deleteManifest(digest.description)
            }
            if blobGone, try await client.blobExists(digest) {
                try await client.deleteBlob(digest)
            }
        }
    }

    /// Removes `tag` from a destination that cannot delete tags (distribution 2.x answers
    /// `DIGEST_INVALID`): deletes the manifest it points to, which removes every tag pointing
    /// there, then sends the manifest back by digest with the tags the source still gives it.
    private func untagByManifest(_ repository: String, _ tag: String) async throws {
        let client = client(repository)
        guard let digest = try await client.manifestDigest(tag) else { return }
        try await client.deleteManifest(digest.description)
        guard let manifest = try await ensureManifest(repository, digest, depth: 0) else { return }
        for other in try await source.tags(repository) where other != tag {
            if try await source.tag(repository, other) == digest {
                try await client.pushManifest(manifest.bytes, mediaType: manifest.mediaType, reference: other)
            }
        }
    }

    /// The manifest's references, read permissively (artifacts may have any layer types).
    private struct References: Decodable {
        var config: Descriptor?
        var layers: [Descriptor]?
        var manifests: [Descriptor]?
    }

    /// Sends manifest `digest` (after what it references) unless the destination has it.
    /// Returns the source's manifest, nil when the source does not hold it.
    @discardableResult
    private func ensureManifest(_ repository: String, _ digest: Digest, depth: Int) async throws -> SourceManifest? {
        let client = client(repository)
        guard let manifest = try await source.manifest(repository, digest) else { return nil }
        if try await client.manifestDigest(digest.description) == digest { return manifest }
        guard let references = try? JSONDecoder().decode(References.self, from: Data(manifest.bytes)) else {
            throw RegistryError.malformed(what: "manifest \(digest) of the source's \(repository)", reason: "not a manifest or index")
        }
        if let children = references.manifests {
            guard depth < DestinationWriter.nestingLimit else {
                throw RegistryError.malformed(what: "index \(digest) of \(repository)", reason: "indexes nest deeper than \(DestinationWriter.nestingLimit)")
            }
            for child in children { try await ensureManifest(repository, child.digest, depth: depth + 1) }
        }
        // Foreign layers live at their `urls`, not in registries.
        for blob in (references.config.map { [$0] } ?? []) + (references.layers ?? []) where (blob.urls ?? []).isEmpty {
            try await ensureBlob(repository, blob)
        }
        try await client.pushManifest(manifest.bytes, mediaType: manifest.mediaType, reference: digest.description)
        return manifest
    }

    /// Makes `repository` of the destination serve blob `descriptor`: found, mounted or uploaded.
    private func ensureBlob(_ repository: String, _ descriptor: Descriptor) async throws {
        let client = client(repository)
        if try await client.blobExists(descriptor.digest) {
            placements.withLock { $0[descriptor.digest] = repository }
            return
        }
        let from = placements.withLock { $0[descriptor.digest] }
        _ = try await source.withBlobFile(repository, descriptor) { path in
            try await client.pushBlob(descriptor, path: path, mountFrom: from)
        }
        placements.withLock { $0[descriptor.digest] = repository }
    }
}

/// The source's present state differs from what an event says.
struct SourceDisagrees: Error {}
