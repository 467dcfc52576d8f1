import ContentStore
import NIOCore
import NIOHTTP1
import OCI

extension RegistryHandler {
    /// Bytes gathered from the connection before one write to disk.
    static let writeBatch = 1 << 20

    /// `POST /v2/<name>/blobs/uploads/`: a cross-repository mount (`?mount=&from=`, 201 when the
    /// source repository holds the blob), a monolithic upload (`?digest=`, 201), or a new session
    /// (202 with its `Location`).
    func startUpload(_ name: String, _ request: ServerRequest, _ body: RequestBody) async throws -> ServerResponse {
        let storage = self.storage
        if let mount = request.query["mount"], let from = request.query["from"] {
            let digest = try RegistryNames.digest(mount)
            try RegistryNames.validateName(from)
            if try await offload({ try storage.mountBlob(name, digest, from: from) }) != nil {
                return blobCreated(name, digest)
            }
        }
        if let digestText = request.query["digest"] {
            let digest = try RegistryNames.digest(digestText)
            let writer: IngestWriter
            do {
                writer = try await offload { try storage.content.ingest() }
            } catch {
                throw RegistryServerError.storage(reason: "\(error)")
            }
            do {
                try await stream(body, into: writer)
                try await commit(writer, digest: digest, size: request.contentLength)
            } catch {
                writer.abort()
                throw error
            }
            try await offload { try storage.linkBlob(name, digest) }
            return blobCreated(name, digest)
        }
        let id = try await sessions.start(name)
        return uploadAccepted(name, id, offset: 0, status: .accepted)
    }

    /// `PATCH <location>`: appends a chunk; a `Content-Range` must start where the upload stands
    /// (else 416). A chunk cut off by a closed connection keeps what arrived, for a resume.
    func patchUpload(_ name: String, _ id: String, _ request: ServerRequest, _ body: RequestBody) async throws -> ServerResponse {
        let writer = try await appendChunk(name, id, request, body)
        await sessions.release(id, writer)
        return uploadAccepted(name, id, offset: writer.offset, status: .accepted)
    }

    /// `PUT <location>?digest=`: appends the last chunk if any, verifies size and digest, and makes
    /// the blob visible in the repository (201). A digest mismatch ends the session.
    func finishUpload(_ name: String, _ id: String, _ request: ServerRequest, _ body: RequestBody) async throws -> ServerResponse {
        guard let digestText = request.query["digest"] else {
            throw RegistryServerError.digestInvalid(reason: "the final PUT of an upload needs ?digest=")
        }
        let digest = try RegistryNames.digest(digestText)
        let writer = try await appendChunk(name, id, request, body)
        do {
            try await commit(writer, digest: digest, size: nil)
        } catch {
            await sessions.finish(id)
            throw error
        }
        await sessions.finish(id)
        let storage = self.storage
        try await offload { try storage.linkBlob(name, digest) }
        return blobCreated(name, digest)
    }

    /// `GET <location>`: how much of the upload the server holds (204 with `Range`).
    func uploadStatus(_ name: String, _ id: String) async throws -> ServerResponse {
        let offset = try await sessions.offset(id, name)
        return uploadAccepted(name, id, offset: offset, status: .noContent)
    }

    /// `DELETE <location>`: cancels the upload and drops its data (204).
    func cancelUpload(_ name: String, _ id: String) async throws -> ServerResponse {
        try await sessions.cancel(id, name)
        return ServerResponse(status: .noContent)
    }

    /// Takes session `id`'s writer and appends the request body to it; the caller gives the
    /// writer back. On failure the writer is given back here, keeping what arrived.
    private func appendChunk(_ name: String, _ id: String, _ request: ServerRequest, _ body: RequestBody) async throws -> IngestWriter {
        let writer = try await sessions.acquire(id, name)
        do {
            try checkChunk(request, at: writer.offset)
            try await stream(body, into: writer)
        } catch {
            await sessions.release(id, writer)
            throw error
        }
        return writer
    }

    private func checkChunk(_ request: ServerRequest, at offset: Int64) throws {
        guard let header = request.header("Content-Range") else { return }
        let range = try ByteRange.uploadChunk(header)
        guard range.start == offset else {
            throw RegistryServerError.blobUploadInvalid(reason: "the chunk starts at \(range.start) but the upload holds \(offset) bytes; resume from \(offset)", rangeNotSatisfiable: true)
        }
        if let length = request.contentLength, length != range.count {
            throw RegistryServerError.blobUploadInvalid(reason: "Content-Range \(header) covers \(range.count) bytes but Content-Length is \(length)", rangeNotSatisfiable: true)
        }
    }

    /// Copies the request body into `writer`, in batches written on the I/O pool.
    private func stream(_ body: RequestBody, into writer: IngestWriter) async throws {
        var batch = ByteBuffer()
        func flush() async throws {
            guard batch.readableBytes > 0 else { return }
            let bytes = batch
            batch = ByteBuffer()
            do {
                try await offload { try bytes.withUnsafeReadableBytes { try writer.write($0) } }
            } catch {
                throw RegistryServerError.storage(reason: "\(error)")
            }
        }
        do {
            while let chunk = try await body.next() {
                if batch.readableBytes == 0 && chunk.readableBytes >= RegistryHandler.writeBatch {
                    batch = chunk
                } else {
                    var chunk = chunk
                    batch.writeBuffer(&chunk)
                }
                if batch.readableBytes >= RegistryHandler.writeBatch { try await flush() }
            }
        } catch {
            // Keep what arrived before the connection broke: the client may resume after it.
            try? await flush()
            throw error
        }
        try await flush()
    }

    /// Verifies and commits `writer` as blob `digest` (the spec's `DIGEST_INVALID` and
    /// `SIZE_INVALID` on a mismatch; nothing becomes visible then).
    private func commit(_ writer: IngestWriter, digest: Digest, size: Int64?) async throws {
        do {
            _ = try await offload { try writer.commit(expectedDigest: digest, expectedSize: size) }
        } catch ContentError.digestMismatch(let expected, let actual) {
            throw RegistryServerError.digestInvalid(reason: "the uploaded bytes hash to \(actual), not \(expected)")
        } catch ContentError.sizeMismatch(let expected, let actual) {
            throw RegistryServerError.sizeInvalid(reason: "expected \(expected) bytes, received \(actual)")
        } catch {
            throw RegistryServerError.storage(reason: "\(error)")
        }
    }

    private func blobCreated(_ name: String, _ digest: Digest) -> ServerResponse {
        ServerResponse(status: .created, headers: [("Location", "/v2/\(name)/blobs/\(digest)"), ("Docker-Content-Digest", digest.description)])
    }

    private func uploadAccepted(_ name: String, _ id: String, offset: Int64, status: HTTPResponseStatus) -> ServerResponse {
        ServerResponse(status: status, headers: [("Location", "/v2/\(name)/blobs/uploads/\(id)"),
                                                 ("Range", ByteRange.uploadProgress(offset: offset)),
                                                 ("Docker-Upload-UUID", id)])
    }
}
