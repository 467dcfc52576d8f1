import NIOHTTP1
import OCI

/// How a blob reached the registry.
public enum BlobPushResult: Sendable, Equatable {
    /// It was there already (`HEAD` found it).
    case alreadyExists
    /// The registry linked it from another repository (cross-repository mount).
    case mounted(from: String)
    /// Its bytes were uploaded.
    case uploaded
}

extension RegistryClient {
    /// Blobs at least this large are sent in `PATCH` chunks of `chunkSize`; smaller ones in one
    /// monolithic `PUT` (distribution-spec "Pushing blobs").
    public static let chunkThreshold: Int64 = 64 << 20
    /// The size of each `PATCH` chunk.
    public static let chunkSize: Int64 = 32 << 20

    /// Whether the repository has blob `digest` (`HEAD /v2/<name>/blobs/<digest>`).
    public func blobExists(_ digest: Digest) async throws -> Bool {
        do {
            return try await send(.HEAD, "/v2/\(repository)/blobs/\(digest)", actions: "pull,push",
                                  notFound: .blobUnknown(repository: displayName, digest: digest)) { _, _ in true }
        } catch RegistryError.blobUnknown {
            return false
        }
    }

    /// Pushes blob `descriptor` whose bytes are the file at `path`: skipped when present, mounted
    /// from `mountFrom` (another repository of the same registry) when it has it, else uploaded
    /// (chunked when large). `progress` gets the bytes sent so far.
    public func pushBlob(_ descriptor: Descriptor, path: String, mountFrom: String? = nil,
                         progress: @Sendable (Int64) async -> Void = { _ in }) async throws -> BlobPushResult {
        if try await blobExists(descriptor.digest) { return .alreadyExists }
        var location: HTTPURL
        if let source = mountFrom, source != repository {
            let started = try await startUpload(query: "?mount=\(descriptor.digest)&from=\(RegistryClient.percentEncoded(source))",
                                                extraScopes: ["repository:\(source):pull"])
            guard let session = started else { return .mounted(from: source) }
            location = session
        } else {
            guard let session = try await startUpload(query: "", extraScopes: []) else {
                throw RegistryError.malformed(what: "upload start for \(displayName)", reason: "the registry answered 201 without a mount")
            }
            location = session
        }
        if descriptor.size >= RegistryClient.chunkThreshold {
            var offset: Int64 = 0
            while offset < descriptor.size {
                let length = min(RegistryClient.chunkSize, descriptor.size - offset)
                location = try await patch(location, path: path, offset: offset, length: length)
                offset += length
                await progress(offset)
            }
            try await finishUpload(location, digest: descriptor.digest, body: nil)
        } else {
            try await finishUpload(location, digest: descriptor.digest, body: .file(path: path, offset: 0, length: descriptor.size))
            await progress(descriptor.size)
        }
        return .uploaded
    }

    /// `POST /v2/<name>/blobs/uploads/<query>`: the session's location (202), or nil when the
    /// registry mounted the blob (201).
    private func startUpload(query: String, extraScopes: [String]) async throws -> HTTPURL? {
        let start = endpoint.url("/v2/\(repository)/blobs/uploads/\(query)")
        return try await send(.POST, url: start, headers: [("Content-Length", "0")], actions: "pull,push", extraScopes: extraScopes,
                              notFound: .unexpectedStatus(code: 404, url: start.description, body: "no upload endpoint")) { response, _ in
            if response.status == 201 { return nil }
            return try location(response, after: start)
        }
    }

    /// One chunk: `PATCH <location>` with `Content-Range: start-end`; returns the next location.
    private func patch(_ location: HTTPURL, path: String, offset: Int64, length: Int64) async throws -> HTTPURL {
        try await send(.PATCH, url: location,
                       headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "\(offset)-\(offset + length - 1)")],
                       body: .file(path: path, offset: offset, length: length), actions: "pull,push",
                       notFound: .unexpectedStatus(code: 404, url: location.description, body: "upload session unknown")) { response, _ in
            try self.location(response, after: location)
        }
    }

    /// `PUT <location>?digest=…`, closing the upload (with the remaining bytes, if any). A
    /// `Docker-Content-Digest` answered back must be the digest sent.
    private func finishUpload(_ location: HTTPURL, digest: Digest, body: HTTPRequestBody?) async throws {
        var url = location
        url.target += (url.target.contains("?") ? "&" : "?") + "digest=\(digest)"
        var headers = [("Content-Type", "application/octet-stream")]
        if body == nil { headers.append(("Content-Length", "0")) }
        _ = try await send(.PUT, url: url, headers: headers, body: body, actions: "pull,push",
                           notFound: .unexpectedStatus(code: 404, url: url.description, body: "upload session unknown")) { response, _ in
            if let announced = response.header("Docker-Content-Digest").flatMap({ try? Digest(parsing: $0) }), announced != digest {
                throw RegistryError.digestMismatch(what: "blob stored by \(self.endpoint.domain)", expected: digest, actual: announced)
            }
            return true
        }
    }

    private func location(_ response: HTTPResponse, after url: HTTPURL) throws -> HTTPURL {
        guard let value = response.header("Location") else {
            throw RegistryError.malformed(what: "upload answer from \(endpoint.domain)", reason: "no Location header")
        }
        return try url.resolving(value)
    }

    /// `PUT /v2/<name>/manifests/<reference>` with the exact bytes and their media type.
    /// Checks the registry's `Docker-Content-Digest` against the bytes' digest. Returns whether
    /// the registry acknowledged a `subject` in the document (the `OCI-Subject` header: it
    /// keeps the referrers list itself).
    @discardableResult
    public func pushManifest(_ bytes: [UInt8], mediaType: String, reference: String) async throws -> Bool {
        let digest = Digest.sha256(of: bytes)
        let target = "/v2/\(repository)/manifests/\(reference)"
        return try await send(.PUT, target, headers: [("Content-Type", mediaType)], body: .bytes(bytes), actions: "pull,push",
                              notFound: .unexpectedStatus(code: 404, url: endpoint.url(target).description, body: "repository not found")) { response, _ in
            if let announced = response.header("Docker-Content-Digest").flatMap({ try? Digest(parsing: $0) }), announced != digest {
                throw RegistryError.digestMismatch(what: "manifest stored by \(endpoint.domain)", expected: digest, actual: announced)
            }
            return response.header("OCI-Subject") != nil
        }
    }

    /// Pushes a small blob held in memory (an artifact's empty config) unless the repository
    /// has it, in one monolithic upload.
    public func pushBlob(_ bytes: [UInt8], digest: Digest) async throws {
        if try await blobExists(digest) { return }
        guard let session = try await startUpload(query: "", extraScopes: []) else {
            throw RegistryError.malformed(what: "upload start for \(displayName)", reason: "the registry answered 201 without a mount")
        }
        try await finishUpload(session, digest: digest, body: .bytes(bytes))
    }
}
