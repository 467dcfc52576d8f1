#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOHTTP1
import OCI

extension RegistryClient {
    /// The digest `reference` (a tag or a digest) resolves to in the repository
    /// (`HEAD /v2/<name>/manifests/<reference>`, its `Docker-Content-Digest`), or nil when the
    /// repository has no such manifest. A registry that answers without the header counts as
    /// not telling: nil too, so the caller sends the manifest (idempotent) rather than trusting it.
    public func manifestDigest(_ reference: String) async throws -> Digest? {
        do {
            return try await send(.HEAD, "/v2/\(repository)/manifests/\(reference)",
                                  headers: [("Accept", RegistryClient.manifestTypes.joined(separator: ", "))], actions: "pull,push",
                                  notFound: .manifestUnknown(reference: "\(displayName):\(reference)")) { response, _ in
                response.header("Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
            }
        } catch RegistryError.manifestUnknown {
            return nil
        }
    }

    /// The size of blob `digest` (`HEAD /v2/<name>/blobs/<digest>`, its `Content-Length`), or
    /// nil when the repository does not serve it.
    public func blobSize(_ digest: Digest) async throws -> Int64? {
        do {
            return try await send(.HEAD, "/v2/\(repository)/blobs/\(digest)", notFound: .blobUnknown(repository: displayName, digest: digest)) { response, _ in
                guard let size = response.header("Content-Length").flatMap(Int64.init) else {
                    throw RegistryError.malformed(what: "blob \(digest) of \(displayName)", reason: "no Content-Length in the answer to HEAD")
                }
                return size
            }
        } catch RegistryError.blobUnknown {
            return nil
        }
    }

    /// `DELETE /v2/<name>/manifests/<reference>`: removes a manifest (by digest, with its tags)
    /// or a tag. Returns false when the repository had no such manifest or tag.
    @discardableResult
    public func deleteManifest(_ reference: String) async throws -> Bool {
        do {
            return try await send(.DELETE, "/v2/\(repository)/manifests/\(reference)", actions: "pull,push,delete",
                                  notFound: .manifestUnknown(reference: "\(displayName):\(reference)")) { _, _ in true }
        } catch RegistryError.manifestUnknown {
            return false
        }
    }

    /// `DELETE /v2/<name>/blobs/<digest>`: the repository stops serving the blob. Returns false
    /// when it had no such blob.
    @discardableResult
    public func deleteBlob(_ digest: Digest) async throws -> Bool {
        do {
            return try await send(.DELETE, "/v2/\(repository)/blobs/\(digest)", actions: "pull,push,delete",
                                  notFound: .blobUnknown(repository: displayName, digest: digest)) { _, _ in true }
        } catch RegistryError.blobUnknown {
            return false
        }
    }

    /// Every tag of the repository (`GET /v2/<name>/tags/list`, following `Link` pages); empty
    /// when the repository does not exist.
    public func listTags() async throws -> [String] {
        struct TagList: Decodable { var tags: [String]? }
        do {
            return try await pages("/v2/\(repository)/tags/list?n=1000", notFound: .manifestUnknown(reference: displayName)) { bytes in
                try JSONDecoder().decode(TagList.self, from: Data(bytes)).tags ?? []
            }
        } catch RegistryError.manifestUnknown {
            return []
        }
    }

    /// Every repository of the registry (`GET /v2/_catalog`, following `Link` pages). The
    /// client's own repository only serves the token scope; the catalog is registry-wide.
    public func listRepositories() async throws -> [String] {
        struct Catalog: Decodable { var repositories: [String]? }
        return try await pages("/v2/_catalog?n=1000", notFound: .unexpectedStatus(code: 404, url: endpoint.url("/v2/_catalog").description,
                                                                                  body: "the registry has no catalog")) { bytes in
            try JSONDecoder().decode(Catalog.self, from: Data(bytes)).repositories ?? []
        }
    }

    /// The items of every page of a paginated list, the next page named by the `Link` header.
    private func pages(_ first: String, notFound: RegistryError, _ decode: @Sendable ([UInt8]) throws -> [String]) async throws -> [String] {
        var items: [String] = []
        var next: HTTPURL? = endpoint.url(first)
        var seen: Set<String> = []
        while let url = next, seen.insert(url.description).inserted {
            let (page, link): ([String], String?) = try await send(.GET, url: url, notFound: notFound) { response, body in
                let bytes = try await body.collect(limit: 16 << 20, what: "list \(url)")
                do {
                    return (try decode(bytes), response.header("Link"))
                } catch {
                    throw RegistryError.malformed(what: "list \(url)", reason: "not the JSON the distribution spec describes")
                }
            }
            items += page
            next = try link.flatMap(RegistryClient.nextPage).map { try url.resolving($0) }
        }
        return items
    }

    /// The target of a `Link: <…>; rel="next"` header.
    static func nextPage(_ link: String) -> String? {
        guard link.contains("rel=\"next\""), let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close else { return nil }
        return String(link[link.index(after: open)..<close])
    }
}
