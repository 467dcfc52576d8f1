import NIOHTTP1
import OCI

extension RegistryHandler {
    /// `GET`/`HEAD /v2/<name>/blobs/<digest>`, with a single `Range` answered by 206.
    func getBlob(_ name: String, _ digest: Digest, _ request: ServerRequest) async throws -> ServerResponse {
        let storage = self.storage
        guard let size = try await offload({ storage.blobSize(name, digest) }) else {
            throw RegistryServerError.blobUnknown(digest: digest.description)
        }
        var headers = [("Docker-Content-Digest", digest.description), ("Content-Type", "application/octet-stream"),
                       ("Accept-Ranges", "bytes"), ("ETag", "\"\(digest)\"")]
        let path = storage.blobFile(digest)
        if let range = try ByteRange.requested(request.header("Range"), size: size) {
            headers.append(("Content-Range", "bytes \(range.start)-\(range.end)/\(size)"))
            return ServerResponse(status: .partialContent, headers: headers, body: .file(path: path, offset: range.start, length: range.count))
        }
        return ServerResponse(status: .ok, headers: headers, body: .file(path: path, offset: 0, length: size))
    }

    /// `DELETE /v2/<name>/blobs/<digest>`: the repository stops serving the blob (202).
    func deleteBlob(_ name: String, _ digest: Digest) async throws -> ServerResponse {
        let storage = self.storage
        guard try await offload({ try storage.unlinkBlob(name, digest) }) else {
            throw RegistryServerError.blobUnknown(digest: digest.description)
        }
        return ServerResponse(status: .accepted, headers: [("Docker-Content-Digest", digest.description)])
    }
}
