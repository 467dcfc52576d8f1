#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import OCI

extension ImageService {
    /// Keeps garbage collection away from what a pull in flight has fetched.
    func pin(blobs: Set<Digest>, chains: Set<Digest>) {
        for blob in blobs { pinnedBlobs[blob, default: 0] += 1 }
        for chain in chains { pinnedChains[chain, default: 0] += 1 }
    }

    /// Releases what `pin` held.
    func unpin(blobs: Set<Digest>, chains: Set<Digest>) {
        for blob in blobs {
            pinnedBlobs[blob, default: 1] -= 1
            if pinnedBlobs[blob] == 0 { pinnedBlobs[blob] = nil }
        }
        for chain in chains {
            pinnedChains[chain, default: 1] -= 1
            if pinnedChains[chain] == 0 { pinnedChains[chain] = nil }
        }
    }

    /// Stores a pulled image's manifest and config (already verified; written again under
    /// their digests, so a lie would fail here too) and records it: tagged with the pulled tag,
    /// and with `repository@repoDigest` among its repo digests. Layers must be in the content
    /// store and unpacked. Returns the image ID (the config digest).
    func recordPulled(_ pull: ImagePuller.Resolved) throws -> Digest {
        let configDigest = pull.manifest.config.digest
        try content.write(Data(pull.configBytes), expected: configDigest)
        try content.write(Data(pull.manifestBytes), expected: pull.manifestDescriptor.digest)
        let reference = pull.reference
        let tags = reference.tag == nil ? [] : [reference]
        let created = pull.config.created.flatMap(Timestamp.init(rfc3339:)) ?? Timestamp.now()
        let id = try commitRecord(id: configDigest, manifest: pull.manifestDescriptor.digest,
                                  mediaType: pull.manifestDescriptor.mediaType, created: created, tags: tags,
                                  repoDigest: "\(reference.familiarRepository)@\(pull.repoDigest)")
        return id
    }
}

extension ImageService {
    /// Adds `repository@digest` to an image's repo digests (after a push), replacing one of the
    /// same repository. Best effort: the push itself has succeeded.
    func addRepoDigest(_ repoDigest: String, to id: Digest) {
        guard let record = table.images[id.description] else { return }
        _ = try? commitRecord(id: id, manifest: record.manifest, mediaType: record.manifestMediaType,
                              created: record.created, tags: [], repoDigest: repoDigest)
    }
}
