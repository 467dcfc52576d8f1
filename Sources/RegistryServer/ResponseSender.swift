import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// Writes a `ServerResponse` to a connection. Blob bodies are streamed: with plain TCP as one
/// `sendfile` region, under TLS in 1 MiB pieces read on the I/O pool; each piece is written
/// only after the previous one left, so a slow client holds back the reads instead of memory.
struct ResponseSender {
    let channel: Channel
    let io: NIOThreadPool
    /// False under TLS, where bytes must pass through the encrypting handler.
    let zeroCopy: Bool

    static let chunkSize = 1 << 20

    func send(_ response: ServerResponse, keepAlive: Bool) async throws {
        var headers = HTTPHeaders(response.headers)
        headers.add(name: "Docker-Distribution-API-Version", value: "registry/2.0")
        if response.status != .noContent {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.contentLength))
        }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)), promise: nil)
        if !response.headOnly {
            switch response.body {
            case .empty:
                break
            case .bytes(let bytes):
                channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes))), promise: nil)
            case .file(let path, let offset, let length):
                try await sendFile(path, offset: offset, length: length)
            }
        }
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
    }

    private func sendFile(_ path: String, offset: Int64, length: Int64) async throws {
        let fd = try await io.runIfActive { () throws -> Int32 in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw RegistryServerError.storage(reason: "open \(path): \(String(cString: strerror(errno)))") }
            return fd
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        defer { try? handle.close() }
        if zeroCopy {
            let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length))
            try await channel.writeAndFlush(HTTPServerResponsePart.body(.fileRegion(region))).get()
            return
        }
        var position = offset
        let end = offset + length
        let allocator = channel.allocator
        while position < end {
            let want = Int(min(Int64(ResponseSender.chunkSize), end - position))
            let at = position
            let buffer = try await io.runIfActive { () throws -> ByteBuffer in
                var buffer = allocator.buffer(capacity: want)
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                    max(pread(fd, raw.baseAddress, want, off_t(at)), 0)
                }
                guard n > 0 else { throw RegistryServerError.storage(reason: "\(path) ended before its recorded size") }
                return buffer
            }
            position += Int64(buffer.readableBytes)
            try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
        }
    }
}
