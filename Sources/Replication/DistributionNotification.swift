#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import OCI

/// The notifications docker-distribution (Debian's `docker-registry` 2.8) sends to its
/// configured endpoints: an envelope `{"events": [...]}` of type
/// `application/vnd.docker.distribution.events.v1+json`, each event with an `action` (`push`,
/// `pull`, `mount`, `delete`) and a `target` (`mediaType`, `digest`, `repository`, `tag`).
public enum DistributionNotification {
    /// The largest envelope accepted.
    public static let sizeLimit = 16 << 20

    private struct Envelope: Decodable {
        var events: [Event]
    }

    private struct Event: Decodable {
        var action: String
        var target: Target
    }

    private struct Target: Decodable {
        var mediaType: String?
        var digest: String?
        var repository: String?
        var tag: String?
    }

    /// The manifest media types a push event can carry (schema 1 included: a registry may
    /// still hold it, and the destination decides whether it takes it).
    static let manifestTypes: Set<String> = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
                                             "application/vnd.docker.distribution.manifest.v1+json",
                                             "application/vnd.docker.distribution.manifest.v1+prettyjws"]

    /// The changes an envelope reports, in its order; pulls are not changes.
    public static func changes(fromEnvelope bytes: [UInt8]) throws -> [ReplicationChange] {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(bytes))
        } catch {
            throw ReplicationError.invalidNotification(reason: "the body is not an events envelope ({\"events\": [...]})")
        }
        var changes: [ReplicationChange] = []
        for event in envelope.events {
            guard event.action != "pull" else { continue }
            guard let repository = event.target.repository, !repository.isEmpty else {
                throw ReplicationError.invalidNotification(reason: "a \(event.action) event names no repository")
            }
            let digest = try event.target.digest.flatMap { text -> Digest? in
                guard !text.isEmpty else { return nil }
                do {
                    return try Digest(parsing: text)
                } catch {
                    throw ReplicationError.invalidNotification(reason: "\"\(text)\" is not a digest")
                }
            }
            let tag = event.target.tag.flatMap { $0.isEmpty ? nil : $0 }
            if let tag, !Reference.isValidTag(tag) {
                throw ReplicationError.invalidNotification(reason: "\"\(tag)\" is not a tag")
            }
            switch (event.action, digest, tag) {
            case ("push", let digest?, _) where manifestTypes.contains(event.target.mediaType ?? ""):
                changes.append(ReplicationChange(repository: repository, action: .manifest(digest)))
                if let tag { changes.append(ReplicationChange(repository: repository, action: .tag(tag, digest))) }
            case ("push", let digest?, _), ("mount", let digest?, _):
                changes.append(ReplicationChange(repository: repository, action: .blob(digest)))
            case ("delete", _, let tag?):
                changes.append(ReplicationChange(repository: repository, action: .deleteTag(tag)))
            case ("delete", let digest?, nil):
                changes.append(ReplicationChange(repository: repository, action: .deleteDigest(digest)))
            default:
                throw ReplicationError.invalidNotification(reason: "a \(event.action) event of \(repository) names neither a digest nor a tag it can act on")
            }
        }
        return changes
    }
}
