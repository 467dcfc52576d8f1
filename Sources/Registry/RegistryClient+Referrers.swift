#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ContentDigest
import OCI

/// An artifact manifest (image-spec 1.1, "Guidelines for artifact usage"): an image manifest
/// whose `artifactType` says what it holds, with the empty config, the artifact's files as
/// layers and the manifest it is about as `subject`.
public struct ArtifactManifest: Codable, Sendable {
    /// Always 2.
    public var schemaVersion = 2
    /// Always the OCI image manifest type.
    public var mediaType = MediaType.ociManifest
    /// What the artifact is (`application/spdx+json`, …).
    public var artifactType: String
    /// The empty descriptor (`{}`).
    public var config: Descriptor
    /// The artifact's files.
    public var layers: [Descriptor]
    /// The manifest the artifact refers to.
    public var subject: Descriptor
    /// Annotations of the artifact (creation time and the like).
    public var annotations: [String: String]?
}

/// The manifests that name one manifest as their subject.
public struct ReferrersList: Sendable {
    /// One descriptor per referring manifest, with its `artifactType` and annotations.
    public var manifests: [Descriptor]
    /// true when the registry's referrers API answered; false when the list was read from (or
    /// found missing under) the referrers tag of a registry without that API.
    public var fromAPI: Bool
}

extension RegistryClient {
    /// The empty JSON object every artifact manifest's config points to.
    static let emptyConfig = Array("{}".utf8)

    /// The tag under which the referrers of `subject` are kept on registries without the
    /// referrers API (distribution-spec v1.1, "Referrers Tag Schema"): `<alg>-<hex>`.
    public static func referrersTag(for subject: Digest) -> String {
        "\(subject.algorithm)-\(subject.encoded)"
    }

    /// The referrers of `subject` in this repository, only those of `artifactType` when given:
    /// from `GET /v2/<name>/referrers/<digest>` where the registry has that API (404 means it
    /// has not), else from the referrers tag (none when the tag does not exist).
    public func referrers(of subject: Digest, artifactType: String? = nil) async throws -> ReferrersList {
        var target = "/v2/\(repository)/referrers/\(subject)"
        if let artifactType { target += "?artifactType=" + RegistryClient.percentEncoded(artifactType) }
        let shown = "referrers of \(displayName)@\(subject)"
        let answered: (index: Index, filtered: Bool)?
        do {
            answered = try await send(.GET, target, headers: [("Accept", MediaType.ociIndex)],
                                      notFound: .manifestUnknown(reference: shown)) { response, body in
                let bytes = try await body.collect(limit: RegistryClient.manifestLimit, what: shown)
                let filtered = response.header("OCI-Filters-Applied")?.split(separator: ",")
                    .contains { String($0).trimmed == "artifactType" } ?? false
                return (try RegistryClient.referrersIndex(bytes, shown: shown), filtered)
            }
        } catch RegistryError.manifestUnknown {
            answered = nil
        }
        if let answered {
            return ReferrersList(manifests: RegistryClient.only(artifactType, in: answered.index.manifests, filtered: answered.filtered),
                                 fromAPI: true)
        }
        let stored = try await referrersTagIndex(of: subject)
        return ReferrersList(manifests: RegistryClient.only(artifactType, in: stored?.manifests ?? [], filtered: false), fromAPI: false)
    }

    /// Pushes an artifact about `subject`: the empty config, each file (by its descriptor, from
    /// its path), then the artifact manifest by digest. When the registry does not acknowledge
    /// the subject (no `OCI-Subject` header), adds the artifact to the referrers tag as the
    /// distribution spec asks of clients. Returns the artifact manifest's descriptor.
    public func pushArtifact(subject: Descriptor, artifactType: String, files: [(descriptor: Descriptor, path: String)],
                             annotations: [String: String]?) async throws -> Descriptor {
        let config = Descriptor(mediaType: MediaType.ociEmpty, digest: Digest.sha256(of: RegistryClient.emptyConfig),
                                size: Int64(RegistryClient.emptyConfig.count))
        try await pushBlob(RegistryClient.emptyConfig, digest: config.digest)
        for file in files { _ = try await pushBlob(file.descriptor, path: file.path) }
        let subjectDescriptor = Descriptor(mediaType: subject.mediaType, digest: subject.digest, size: subject.size)
        let manifest = ArtifactManifest(artifactType: artifactType, config: config, layers: files.map(\.descriptor),
                                        subject: subjectDescriptor, annotations: annotations)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(manifest))
        let descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: Digest.sha256(of: bytes), size: Int64(bytes.count),
                                    annotations: annotations, artifactType: artifactType)
        let acknowledged = try await pushManifest(bytes, mediaType: MediaType.ociManifest, reference: descriptor.digest.description)
        if !acknowledged { try await addToReferrersTag(descriptor, subject: subject.digest) }
        return descriptor
    }

    /// The index under the referrers tag of `subject`, or nil when there is none.
    private func referrersTagIndex(of subject: Digest) async throws -> Index? {
        let tag = RegistryClient.referrersTag(for: subject)
        do {
            let fetched = try await fetchManifest(tag)
            return try RegistryClient.referrersIndex(fetched.bytes, shown: "referrers tag \(displayName):\(tag)")
        } catch RegistryError.manifestUnknown {
            return nil
        }
    }

    /// Adds `descriptor` to the index under the referrers tag of `subject` (made when missing).
    private func addToReferrersTag(_ descriptor: Descriptor, subject: Digest) async throws {
        var index = try await referrersTagIndex(of: subject) ?? Index(manifests: [])
        guard !index.manifests.contains(where: { $0.digest == descriptor.digest }) else { return }
        index.manifests.append(descriptor)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await pushManifest(Array(try encoder.encode(index)), mediaType: MediaType.ociIndex,
                               reference: RegistryClient.referrersTag(for: subject))
    }

    /// Decodes a referrers list (an OCI index), naming `shown` when it is not one.
    static func referrersIndex(_ bytes: [UInt8], shown: String) throws -> Index {
        do {
            return try Index.decode(Data(bytes))
        } catch {
            throw RegistryError.malformed(what: shown, reason: "not an OCI image index (\(error))")
        }
    }

    /// `manifests` of `artifactType` (all when nil, or when the registry already filtered).
    static func only(_ artifactType: String?, in manifests: [Descriptor], filtered: Bool) -> [Descriptor] {
        guard let artifactType, !filtered else { return manifests }
        return manifests.filter { $0.artifactType == artifactType }
    }
}
