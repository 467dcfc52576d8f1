import ContentDigest
import Glibc
import OCI
import Registry

/// Artifacts attached to images in a registry (signatures, SBOMs …): listing the referrers of
/// an image's manifest and attaching a file to one. Works on the registry only; nothing is
/// stored locally.
public struct ImageReferrers: Sendable {
    let access: RegistryAccess

    /// Referrers reached through `access`.
    public init(access: RegistryAccess) {
        self.access = access
    }

    /// The manifest `reference` names in its registry, and the artifacts that refer to it (of
    /// `artifactType` when given).
    public func list(_ reference: Reference, artifactType: String?, credentials: RegistryCredentials?) async throws
        -> (subject: Descriptor, referrers: ReferrersList) {
        let client = try access.client(domain: reference.domain, repository: reference.path, credentials: credentials)
        let subject = try await client.fetchManifest(reference.digest?.description ?? reference.tag ?? "latest").descriptor
        return (subject, try await client.referrers(of: subject.digest, artifactType: artifactType))
    }

    /// Attaches the file at `path` to the manifest `reference` names, as an artifact of
    /// `artifactType` with one layer of `mediaType`, titled `title` when given. Returns the
    /// artifact manifest's descriptor.
    public func attach(_ reference: Reference, artifactType: String, path: String, mediaType: String, title: String?,
                       annotations: [String: String], credentials: RegistryCredentials?) async throws -> Descriptor {
        guard let hashed = Digest.sha256(ofFileAt: path) else {
            throw EngineError.failure("cannot read the artifact's content: \(String(cString: strerror(errno)))")
        }
        var layerAnnotations: [String: String]?
        if let title { layerAnnotations = ["org.opencontainers.image.title": title] }
        let layer = Descriptor(mediaType: mediaType, digest: hashed.digest, size: hashed.size, annotations: layerAnnotations)
        let client = try access.client(domain: reference.domain, repository: reference.path, credentials: credentials)
        let subject = try await client.fetchManifest(reference.digest?.description ?? reference.tag ?? "latest").descriptor
        return try await client.pushArtifact(subject: subject, artifactType: artifactType, files: [(layer, path)],
                                             annotations: annotations.isEmpty ? nil : annotations)
    }
}
