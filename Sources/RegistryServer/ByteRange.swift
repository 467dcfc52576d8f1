import BerthSystem
/// Byte ranges of blob reads and chunked uploads (RFC 9110 §14; distribution spec "Pushing a blob
/// in chunks").
struct ByteRange: Equatable, Sendable {
    /// First byte, inclusive.
    var start: Int64
    /// Last byte, inclusive.
    var end: Int64

    /// Number of bytes in the range.
    var count: Int64 { end - start + 1 }

    init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// The range a `Range: bytes=…` header asks for in a blob of `size` bytes: nil when the
    /// header is absent, not a single range or not `bytes` (the whole blob is served then, as
    /// RFC 9110 allows); throws `rangeNotSatisfiable` when it lies outside the blob.
    static func requested(_ header: String?, size: Int64) throws -> ByteRange? {
        guard let header, header.hasPrefix("bytes=") else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmed
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // A suffix: the last N bytes.
            guard let n = Int64(last), n > 0 else { throw RegistryServerError.rangeNotSatisfiable(size: size) }
            guard size > 0 else { throw RegistryServerError.rangeNotSatisfiable(size: size) }
            return ByteRange(start: max(0, size - n), end: size - 1)
        }
        guard let start = Int64(first), start >= 0 else { return nil }
        guard start < size else { throw RegistryServerError.rangeNotSatisfiable(size: size) }
        if last.isEmpty { return ByteRange(start: start, end: size - 1) }
        guard let end = Int64(last), end >= start else { return nil }
        return ByteRange(start: start, end: min(end, size - 1))
    }

    /// A chunk's `Content-Range` (`<start>-<end>`, also accepted with a `bytes ` prefix and an
    /// `/<total>` suffix). Throws `blobUploadInvalid` (416) when malformed.
    static func uploadChunk(_ header: String) throws -> ByteRange {
        var text = header.trimmed[...]
        if text.hasPrefix("bytes ") { text = text.dropFirst("bytes ".count) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), let end = Int64(parts[1]), start >= 0, end >= start else {
            throw RegistryServerError.blobUploadInvalid(reason: "Content-Range \"\(header)\" is not <start>-<end>", rangeNotSatisfiable: true)
        }
        return ByteRange(start: start, end: end)
    }

    /// The `Range` header of an upload holding `offset` bytes: `0-<offset-1>`, and `0-0` for an
    /// empty one (as Docker's registry answers).
    static func uploadProgress(offset: Int64) -> String {
        "0-\(max(offset - 1, 0))"
    }
}
