#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentDigest
import ContentStore
import Glibc
import OCI
import Replication

/// A manifest as stored: its bytes, digest and media type.
struct StoredManifest: Sendable {
    var digest: Digest
    var mediaType: String
    var bytes: [UInt8]
}

/// A descriptor in a referrers answer (distribution spec "Listing Referrers"), with the
/// `artifactType` OCI's `Descriptor` does not carry.
struct ReferrerDescriptor: Codable, Sendable, Equatable {
    var mediaType: String
    var digest: Digest
    var size: Int64
    var artifactType: String?
    var annotations: [String: String]?
}

/// Any manifest-shaped document, decoded permissively: a registry stores artifacts whose layer
/// types Berth itself would not unpack, so only the fields the spec's checks need are read.
struct ManifestDocument: Decodable {
    var schemaVersion: Int?
    var mediaType: String?
    var artifactType: String?
    var config: Descriptor?
    var layers: [Descriptor]?
    var manifests: [Descriptor]?
    var subject: Descriptor?
    var annotations: [String: String]?
}

extension RegistryStorage {
    /// The largest manifest accepted (the spec asks registries to take at least 4 MiB).
    static let manifestLimit = 4 << 20

    /// The manifest types the server accepts (OCI and Docker schema 2; schema 1 is refused).
    static let manifestTypes = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList]

    /// The manifest `reference` names in repository `name`, verified against its digest.
    func manifest(_ name: String, _ reference: ManifestReference) throws -> StoredManifest {
        let digest: Digest
        switch reference {
        case .tag(let tag):
            guard let d = resolve(name, tag: tag) else { throw RegistryServerError.manifestUnknown(reference: tag) }
            digest = d
        case .digest(let d):
            digest = d
        }
        guard let type = try? FileSystem.readFile(revisionPath(name, digest)) else {
            throw RegistryServerError.manifestUnknown(reference: reference.description)
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try content.read(digest, maximumSize: Int64(RegistryStorage.manifestLimit)))
        } catch ContentError.notFound {
            throw RegistryServerError.manifestUnknown(reference: reference.description)
        } catch {
            throw RegistryServerError.storage(reason: "\(error)")
        }
        return StoredManifest(digest: digest, mediaType: String(decoding: type, as: UTF8.self), bytes: bytes)
    }

    /// Whether repository `name` holds manifest `digest`.
    func hasManifest(_ name: String, _ digest: Digest) -> Bool {
        FileSystem.exists(revisionPath(name, digest)) && content.contains(digest)
    }

    /// Validates and stores a pushed manifest (distribution spec "Pushing Manifests"): a known
    /// media type equal to the document's own `mediaType`, not both `manifests` and
    /// `layers`/`config`, every referenced blob or manifest present in this repository, and,
    /// when pushed by digest, bytes hashing to it. Returns the stored manifest and its subject.
    func putManifest(_ name: String, _ reference: ManifestReference, contentType: String?, bytes: [UInt8]) throws -> (StoredManifest, subject: Digest?) {
        guard bytes.count <= RegistryStorage.manifestLimit else { throw RegistryServerError.manifestTooLarge(limit: RegistryStorage.manifestLimit) }
        let document = try ManifestDocument.validated(bytes, contentType: contentType)
        let mediaType = document.mediaType ?? RegistryStorage.normalize(contentType) ?? ""
        try checkReferences(of: document, mediaType: mediaType, in: name)
        let digest = Digest.sha256(of: bytes)
        if case .digest(let expected) = reference, expected != digest {
            throw RegistryServerError.digestInvalid(reason: "the manifest's bytes hash to \(digest), not \(expected)")
        }
        do {
            try content.write(Data(bytes), expected: digest)
        } catch {
            throw RegistryServerError.storage(reason: "\(error)")
        }
        var changes: [ReplicationAction] = [.manifest(digest)]
        if case .tag(let tag) = reference { changes.append(.tag(tag, digest)) }
        try journal?.record(name, changes)
        defer { journal?.published() }
        try writeLink(revisionPath(name, digest), bytes: Array(mediaType.utf8))
        if case .tag(let tag) = reference { try writeLink(tagPath(name, tag), bytes: Array(digest.description.utf8)) }
        if let subject = document.subject {
            let entry = ReferrerDescriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count),
                                           artifactType: document.artifactType ?? document.config?.mediaType,
                                           annotations: document.annotations)
            let json = (try? JSONEncoder().encode(entry)).map(Array.init) ?? []
            try writeLink(referrersPath(name, subject.digest) + "/" + digest.encoded, bytes: json)
        }
        return (StoredManifest(digest: digest, mediaType: mediaType, bytes: bytes), document.subject?.digest)
    }

    private func checkReferences(of document: ManifestDocument, mediaType: String, in name: String) throws {
        if MediaType.isIndex(mediaType) {
            for child in document.manifests ?? [] where !hasManifest(name, child.digest) {
                throw RegistryServerError.manifestBlobUnknown(digest: child.digest.description)
            }
            return
        }
        let blobs = (document.config.map { [$0] } ?? []) + (document.layers ?? [])
        // Foreign and non-distributable layers live at their `urls`, not in the registry.
        for blob in blobs where (blob.urls ?? []).isEmpty {
            guard let size = blobSize(name, blob.digest) else {
                throw RegistryServerError.manifestBlobUnknown(digest: blob.digest.description)
            }
            guard size == blob.size else {
                throw RegistryServerError.manifestInvalid(reason: "descriptor of \(blob.digest) says \(blob.size) bytes, the blob has \(size)")
            }
        }
    }

    /// Removes a manifest (by digest: the revision, every tag pointing to it and its referrer
    /// entry) or a tag (by tag: only the tag). The content stays until `gc`.
    func deleteManifest(_ name: String, _ reference: ManifestReference) throws {
        switch reference {
        case .tag(let tag):
            guard resolve(name, tag: tag) != nil else { throw RegistryServerError.manifestUnknown(reference: tag) }
            try journal?.record(name, [.deleteTag(tag)])
            defer { journal?.published() }
            guard unlink(tagPath(name, tag)) == 0 else { throw RegistryServerError.manifestUnknown(reference: tag) }
        case .digest(let digest):
            let stored = try manifest(name, reference)
            try journal?.record(name, [.deleteManifest(digest)])
            defer { journal?.published() }
            for tag in (try? tags(name)) ?? [] where resolve(name, tag: tag) == digest {
                unlink(tagPath(name, tag))
            }
            if let document = try? JSONDecoder().decode(ManifestDocument.self, from: Data(stored.bytes)), let subject = document.subject {
                unlink(referrersPath(name, subject.digest) + "/" + digest.encoded)
            }
            guard unlink(revisionPath(name, digest)) == 0 else { throw RegistryServerError.manifestUnknown(reference: digest.description) }
        }
    }

    /// The manifests of `name` whose subject is `subject`, optionally only those of `artifactType`.
    func referrers(_ name: String, subject: Digest, artifactType: String?) -> [ReferrerDescriptor] {
        let directory = referrersPath(name, subject)
        return FileSystem.listDirectory(directory).sorted().compactMap { entry in
            guard let bytes = try? FileSystem.readFile(directory + "/" + entry),
                  let descriptor = try? JSONDecoder().decode(ReferrerDescriptor.self, from: Data(bytes)),
                  hasManifest(name, descriptor.digest) else { return nil }
            if let artifactType, descriptor.artifactType != artifactType { return nil }
            return descriptor
        }
    }

    /// `Content-Type` without parameters, nil when absent.
    static func normalize(_ contentType: String?) -> String? {
        contentType.flatMap { $0.split(separator: ";").first }.map { String($0).trimmed }
    }
}

extension ManifestDocument {
    /// Decodes `bytes` and applies the checks that need no storage: a supported `Content-Type`,
    /// a matching `mediaType` field, schema version 2, and an unambiguous shape (CVE-2021-41190).
    static func validated(_ bytes: [UInt8], contentType: String?) throws -> ManifestDocument {
        let document: ManifestDocument
        do {
            document = try JSONDecoder().decode(ManifestDocument.self, from: Data(bytes))
        } catch {
            throw RegistryServerError.manifestInvalid(reason: "not a manifest: \(DecodingFailure.describe(error))")
        }
        let declared = RegistryStorage.normalize(contentType)
        guard let type = document.mediaType ?? declared, RegistryStorage.manifestTypes.contains(type) else {
            throw RegistryServerError.manifestInvalid(reason: "media type \"\(document.mediaType ?? declared ?? "")\" is not an OCI or Docker schema 2 manifest or index")
        }
        if let declared, let own = document.mediaType, declared != own {
            throw RegistryServerError.manifestInvalid(reason: "the mediaType field \"\(own)\" differs from the Content-Type \"\(declared)\"")
        }
        guard document.schemaVersion == 2 else {
            throw RegistryServerError.manifestInvalid(reason: "schemaVersion must be 2")
        }
        let imageKeys = document.layers != nil || document.config != nil
        if document.manifests != nil && imageKeys {
            throw RegistryServerError.manifestInvalid(reason: "the document has both \"manifests\" and \"layers\"/\"config\"")
        }
        if MediaType.isIndex(type) {
            guard document.manifests != nil else { throw RegistryServerError.manifestInvalid(reason: "an index needs \"manifests\"") }
        } else {
            guard document.config != nil, document.manifests == nil else { throw RegistryServerError.manifestInvalid(reason: "an image manifest needs \"config\"") }
        }
        return document
    }
}

/// Short reasons for JSON decoding failures.
enum DecodingFailure {
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field \"\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted(let context):
            if let underlying = context.underlyingError as? OCIError { return underlying.description }
            return "invalid JSON"
        default:
            return "invalid JSON"
        }
    }
}
