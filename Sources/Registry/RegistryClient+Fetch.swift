#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ContentDigest
import ContentStore
import Glibc
import NIOCore
import OCI

/// A manifest or index as the registry served it: the exact bytes (their digest is the
/// image's repo digest) and what they are.
public struct FetchedManifest: Sendable {
    /// Media type, digest (of exactly `bytes`) and size.
    public var descriptor: Descriptor
    /// The document as served.
    public var bytes: [UInt8]
}

extension RegistryClient {
    /// The largest manifest or index accepted (distribution-spec: at least 4 MB must work).
    public static let manifestLimit = 4 << 20
    /// The largest image config fetched into memory.
    public static let configLimit = 16 << 20
    /// What a client accepts for a manifest request, in order of preference.
    static let manifestTypes = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest]

    /// Fetches the manifest or index that `reference` (a tag or a digest) names. Verifies its
    /// digest against `expected` (and the `Docker-Content-Digest` header), its size against
    /// `expectedSize`, and that the `Content-Type` agrees with the document's own media type.
    public func fetchManifest(_ reference: String, expected: Digest? = nil, expectedSize: Int64? = nil) async throws -> FetchedManifest {
        let shown = "\(displayName)\(expected == nil ? ":" : "@")\(reference)"
        return try await send(.GET, "/v2/\(repository)/manifests/\(reference)", headers: [("Accept", RegistryClient.manifestTypes.joined(separator: ", "))],
                              notFound: .manifestUnknown(reference: shown)) { response, body in
            if let length = response.header("Content-Length").flatMap(Int64.init), length > Int64(RegistryClient.manifestLimit) {
                throw RegistryError.tooLarge(what: "manifest \(shown)", limit: Int64(RegistryClient.manifestLimit))
            }
            let bytes = try await body.collect(limit: RegistryClient.manifestLimit, what: "manifest \(shown)")
            let digest = Digest.sha256(of: bytes)
            if let announced = response.header("Docker-Content-Digest").flatMap({ try? Digest(parsing: $0) }),
               announced.algorithm == "sha256", announced != digest {
                throw RegistryError.digestMismatch(what: "manifest \(shown) (Docker-Content-Digest header)", expected: announced, actual: digest)
            }
            if let expected, expected != digest {
                throw RegistryError.digestMismatch(what: "manifest \(shown)", expected: expected, actual: digest)
            }
            if let expectedSize, expectedSize != Int64(bytes.count) {
                throw RegistryError.truncated(what: "manifest \(shown)", received: Int64(bytes.count), expected: expectedSize)
            }
            let mediaType = try RegistryClient.mediaType(of: bytes, contentType: response.header("Content-Type"), shown: shown)
            return FetchedManifest(descriptor: Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count)), bytes: bytes)
        }
    }

    /// The document's media type: its `mediaType` field, which must equal the `Content-Type`
    /// when that names a manifest type (CVE-2021-41190); otherwise the `Content-Type`.
    static func mediaType(of bytes: [UInt8], contentType: String?, shown: String) throws -> String {
        struct Shape: Decodable { var mediaType: String?; var manifests: [Descriptor]?; var config: Descriptor? }
        let shape: Shape
        do {
            shape = try JSONDecoder().decode(Shape.self, from: Data(bytes))
        } catch {
            throw RegistryError.malformed(what: "manifest \(shown)", reason: "not a JSON manifest (\(error))")
        }
        let served = contentType.map { $0.split(separator: ";").first.map { String($0).trimmed } ?? "" }
        let knownServed = served.flatMap { manifestTypes.contains($0) ? $0 : nil }
        if let own = shape.mediaType, let knownServed, own != knownServed {
            throw RegistryError.mediaTypeMismatch(contentType: knownServed, documentType: own)
        }
        if let type = shape.mediaType ?? knownServed { return type }
        // Neither says: an OCI document without mediaType is told apart by its shape.
        if shape.manifests != nil { return MediaType.ociIndex }
        if shape.config != nil { return MediaType.ociManifest }
        throw RegistryError.malformed(what: "manifest \(shown)", reason: "no media type and neither manifests nor config")
    }

    /// Fetches a small blob (an image config) into memory, verified against `descriptor`.
    public func fetchSmallBlob(_ descriptor: Descriptor, limit: Int = RegistryClient.configLimit) async throws -> [UInt8] {
        guard descriptor.size <= Int64(limit) else { throw RegistryError.tooLarge(what: "blob \(descriptor.digest)", limit: Int64(limit)) }
        return try await send(.GET, "/v2/\(repository)/blobs/\(descriptor.digest)",
                              notFound: .blobUnknown(repository: displayName, digest: descriptor.digest)) { _, body in
            let bytes = try await body.collect(limit: Int(descriptor.size), what: "blob \(descriptor.digest)")
            guard Int64(bytes.count) == descriptor.size else {
                throw RegistryError.truncated(what: "blob \(descriptor.digest)", received: Int64(bytes.count), expected: descriptor.size)
            }
            let digest = Digest.sha256(of: bytes)
            guard digest == descriptor.digest else {
                throw RegistryError.digestMismatch(what: "blob of \(displayName)", expected: descriptor.digest, actual: digest)
            }
            return bytes
        }
    }

    /// Downloads blob `descriptor` into `store`, hashing as it streams; it becomes visible
    /// only once its size and digest are verified. An interrupted download is resumed with a
    /// `Range` request (also across daemon restarts: the partial data stays in the store's
    /// ingest area under a key made from the digest). Every byte also goes to `mirror`, if
    /// given, as it arrives. `progress` gets the bytes received so far.
    public func fetchBlob(_ descriptor: Descriptor, into store: ContentStore, attempts: Int = 3, mirror: BlobMirror? = nil,
                          progress: @Sendable (Int64) async -> Void = { _ in }) async throws {
        if store.contains(descriptor.digest) { return }
        guard descriptor.digest.isVerifiable else {
            throw RegistryError.malformed(what: "descriptor", reason: "digest \(descriptor.digest) cannot be verified")
        }
        let writer = try store.ingest(ref: "pull \(descriptor.digest)")
        if writer.offset > descriptor.size { try writer.reset() }
        var lastError: Error?
        for _ in 0..<max(attempts, 1) {
            do {
                try await download(descriptor, into: writer, mirror: mirror, progress: progress)
                lastError = nil
                break
            } catch ContentError.io(let operation, let code) where code == ENOSPC || code == EDQUOT {
                // The partial data cannot be completed here: give its space back.
                writer.abort()
                throw ContentError.io(operation: "\(operation) \(descriptor.digest)", errno: code)
            } catch RegistryError.unexpectedStatus(416, _, _) {
                // The registry has fewer bytes than the descriptor says: resuming cannot help.
                lastError = RegistryError.truncated(what: "blob \(descriptor.digest)", received: writer.offset, expected: descriptor.size)
                break
            } catch let error as RegistryError {
                lastError = error
                // Only a broken transfer is worth another try; the registry's refusals are final.
                switch error {
                case .protocolError, .notAnswered, .truncated, .unreachable: continue
                default: break
                }
                break
            }
        }
        if let lastError {
            if case .tooLarge = lastError as? RegistryError { writer.abort() }
            throw lastError
        }
        do {
            try writer.commit(expectedDigest: descriptor.digest, expectedSize: descriptor.size)
        } catch ContentError.digestMismatch(let expected, let actual) {
            throw RegistryError.digestMismatch(what: "blob of \(displayName)", expected: expected, actual: actual)
        } catch ContentError.sizeMismatch(let expected, let actual) {
            throw RegistryError.truncated(what: "blob \(descriptor.digest)", received: actual, expected: expected)
        }
    }

    private func download(_ descriptor: Descriptor, into writer: IngestWriter, mirror: BlobMirror?,
                          progress: @Sendable (Int64) async -> Void) async throws {
        let start = writer.offset
        guard start < descriptor.size else { return }
        var headers: [(String, String)] = []
        if start > 0 { headers.append(("Range", "bytes=\(start)-")) }
        let what = "blob \(descriptor.digest)"
        try await send(.GET, "/v2/\(repository)/blobs/\(descriptor.digest)", headers: headers,
                       notFound: .blobUnknown(repository: displayName, digest: descriptor.digest)) { response, body in
            if start > 0 && response.status != 206 {
                // The server sent the whole blob again: start over.
                try writer.reset()
            }
            await progress(writer.offset)
            while let chunk = try await body.next() {
                guard writer.offset + Int64(chunk.readableBytes) <= descriptor.size else {
                    throw RegistryError.tooLarge(what: what, limit: descriptor.size)
                }
                let offset = writer.offset
                try chunk.withUnsafeReadableBytes { try writer.write($0) }
                await mirror?.feed(chunk, at: offset)
                await progress(writer.offset)
            }
            guard writer.offset == descriptor.size else {
                throw RegistryError.truncated(what: what, received: writer.offset, expected: descriptor.size)
            }
        }
    }
}
