#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOHTTP1
import OCI

extension RegistryHandler {
    /// `GET`/`HEAD /v2/<name>/manifests/<reference>`: the stored bytes with their media type as
    /// `Content-Type` and their digest as `Docker-Content-Digest`.
    func getManifest(_ name: String, _ reference: ManifestReference) async throws -> ServerResponse {
        let storage = self.storage
        let stored = try await offload { try storage.manifest(name, reference) }
        return ServerResponse(status: .ok, headers: [("Content-Type", stored.mediaType), ("Docker-Content-Digest", stored.digest.description),
                                                     ("ETag", "\"\(stored.digest)\"")], body: .bytes(stored.bytes))
    }

    /// `PUT /v2/<name>/manifests/<reference>`: validates and stores a manifest (201); over 4 MiB
    /// is refused with 413 before reading it all.
    func putManifest(_ name: String, _ reference: ManifestReference, _ request: ServerRequest, _ body: RequestBody) async throws -> ServerResponse {
        let limit = RegistryStorage.manifestLimit
        if let length = request.contentLength, length > Int64(limit) { throw RegistryServerError.manifestTooLarge(limit: limit) }
        var bytes: [UInt8] = []
        while let chunk = try await body.next() {
            guard bytes.count + chunk.readableBytes <= limit else { throw RegistryServerError.manifestTooLarge(limit: limit) }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        let storage = self.storage
        let contentType = request.header("Content-Type")
        let received = bytes
        let (stored, subject) = try await offload { try storage.putManifest(name, reference, contentType: contentType, bytes: received) }
        var headers = [("Location", "/v2/\(name)/manifests/\(stored.digest)"), ("Docker-Content-Digest", stored.digest.description)]
        if let subject { headers.append(("OCI-Subject", subject.description)) }
        return ServerResponse(status: .created, headers: headers)
    }

    /// `DELETE /v2/<name>/manifests/<reference>`: a digest removes the manifest and its tags, a
    /// tag only the tag (202).
    func deleteManifest(_ name: String, _ reference: ManifestReference) async throws -> ServerResponse {
        let storage = self.storage
        try await offload { try storage.deleteManifest(name, reference) }
        return ServerResponse(status: .accepted)
    }

    /// `GET /v2/<name>/tags/list`, paginated with `n` and `last` and a `Link` to the next page.
    func tags(_ name: String, _ request: ServerRequest) async throws -> ServerResponse {
        struct TagList: Encodable { var name: String; var tags: [String] }
        let pagination = try Pagination(query: request.query)
        let storage = self.storage
        let all = try await offload { try storage.tags(name) }
        let (page, more) = pagination.page(all)
        let link = more ? pagination.link(path: "/v2/\(name)/tags/list", after: page) : nil
        return .json(.ok, encode(TagList(name: name, tags: page)), headers: link.map { [("Link", $0)] } ?? [])
    }

    /// `GET /v2/_catalog`, paginated like tags.
    func catalog(_ request: ServerRequest) async throws -> ServerResponse {
        struct Catalog: Encodable { var repositories: [String] }
        let pagination = try Pagination(query: request.query)
        let storage = self.storage
        let all = try await offload { storage.repositories() }
        let (page, more) = pagination.page(all)
        let link = more ? pagination.link(path: "/v2/_catalog", after: page) : nil
        return .json(.ok, encode(Catalog(repositories: page)), headers: link.map { [("Link", $0)] } ?? [])
    }

    /// `GET /v2/<name>/referrers/<digest>`: an OCI index of the manifests whose subject is
    /// `digest`, filtered by `artifactType` when asked.
    func referrers(_ name: String, _ subject: Digest, _ request: ServerRequest) async throws -> ServerResponse {
        struct ReferrersIndex: Encodable { var schemaVersion = 2; var mediaType = MediaType.ociIndex; var manifests: [ReferrerDescriptor] }
        let storage = self.storage
        let artifactType = request.query["artifactType"]
        let found = try await offload { storage.referrers(name, subject: subject, artifactType: artifactType) }
        var response = ServerResponse.json(.ok, encode(ReferrersIndex(manifests: found)))
        response.headers[0].1 = MediaType.ociIndex
        if artifactType != nil { response.headers.append(("OCI-Filters-Applied", "artifactType")) }
        return response
    }

    private func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)) + [0x0a]
    }
}
