import CArchive
import Glibc
import ContentDigest
import OCI

/// Where a layer's compressed bytes come from.
public enum LayerInput: Sendable {
    /// A layer file; its compression is detected from its first bytes.
    case file(String)
    /// A descriptor read to its end (a pipe fed by a download). A pipe cannot be peeked, so the
    /// caller says whether it is gzip (from the media type); anything else is detected by
    /// libarchive as it reads. `name` is used in messages. The descriptor stays the caller's.
    case stream(fd: Int32, name: String, gzip: Bool)

    /// What messages call the layer.
    public var name: String {
        switch self {
        case .file(let path): return path
        case .stream(_, let name, _): return name
        }
    }
}

/// Size of every read buffer on the unpack path: big enough that decompression and hashing,
/// not system calls, dominate.
let layerBufferSize = 1 << 20

/// The uncompressed bytes of a layer file, hashed as they stream past.
///
/// gzip (by far the most common) is undone by ISA-L's igzip (`GzipInflater`); anything else
/// by a libarchive reader in "raw" format (zstd, xz, bzip2, plain; detected from content; all
/// in-process, never an external program). Every byte yielded goes into the diff ID hasher
/// exactly once, then to whoever pulls. So the diff ID covers the whole uncompressed stream,
/// including padding after the tar end marker.
final class DecompressedStream {
    private let path: String
    private let raw: OpaquePointer
    /// The layer file, when it is gzip and igzip reads it (libarchive is then unused).
    private var gzipFile: Int32 = -1
    private var inflater: GzipInflater?
    private let buffer: UnsafeMutableRawPointer
    private let limit: Int64
    private var finished = false
    private(set) var hasher = DigestHasher()
    /// The first failure seen while pulling; the tar reader only learns "read error".
    private(set) var failure: LayerError?

    init(input: LayerInput, limit: Int64) throws {
        let path = input.name
        guard let raw = archive_read_new() else { throw LayerError.unreadable(path: path, reason: "out of memory") }
        // Only filters compiled into libarchive: each call returns ARCHIVE_WARN when it would
        // fall back to an external program, and then the stream is refused below.
        var external = false
        for enable in [archive_read_support_filter_gzip, archive_read_support_filter_zstd,
                       archive_read_support_filter_xz, archive_read_support_filter_bzip2] {
            if enable(raw) != ARCHIVE_OK { external = true }
        }
        archive_read_support_format_raw(raw)
        self.path = path
        self.raw = raw
        self.limit = limit
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: layerBufferSize, alignment: 16)
        if external {
            throw LayerError.unreadable(path: path, reason: "libarchive lacks a built-in decompressor")
        }
        switch input {
        case .file(let file):
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw LayerError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if GzipInflater.isGzip(fd) {
                gzipFile = fd
                inflater = GzipInflater(fd: fd)
                return
            }
            close(fd)
            guard archive_read_open_filename(raw, file, layerBufferSize) == ARCHIVE_OK else {
                throw LayerError.unreadable(path: path, reason: archiveMessage(raw))
            }
        case let .stream(fd, _, gzip):
            if gzip {
                inflater = GzipInflater(fd: fd)
                return
            }
            guard archive_read_open_fd(raw, fd, layerBufferSize) == ARCHIVE_OK else {
                throw LayerError.unreadable(path: path, reason: archiveMessage(raw))
            }
        }
        var entry: OpaquePointer?
        switch archive_read_next_header(raw, &entry) {
        case ARCHIVE_OK, ARCHIVE_WARN: break
        case ARCHIVE_EOF: finished = true
        default: throw LayerError.corruptArchive(path: path, reason: archiveMessage(raw))
        }
    }

    deinit {
        archive_read_free(raw)
        if gzipFile >= 0 { close(gzipFile) }
        buffer.deallocate()
    }

    /// Fills the internal buffer with the next uncompressed bytes. Returns how many (0 at the
    /// end), or -1 after recording `failure`.
    func pull() -> Int {
        if finished { return 0 }
        if failure != nil { return -1 }
        let n: Int
        if let inflater {
            do {
                n = try inflater.read(into: buffer, capacity: layerBufferSize)
            } catch let error as InflateFailure {
                failure = .corruptArchive(path: path, reason: error.reason)
                return -1
            } catch {
                failure = .corruptArchive(path: path, reason: "\(error)")
                return -1
            }
        } else {
            n = archive_read_data(raw, buffer, layerBufferSize)
        }
        if n < 0 {
            failure = .corruptArchive(path: path, reason: archiveMessage(raw))
            return -1
        }
        if n == 0 {
            finished = true
            return 0
        }
        hasher.update(UnsafeRawBufferPointer(start: buffer, count: n))
        if hasher.count > limit {
            failure = .sizeLimitExceeded(limit: limit)
            return -1
        }
        return n
    }

    /// The bytes of the last successful `pull`.
    var bytes: UnsafeRawPointer { UnsafeRawPointer(buffer) }

    /// Reads (and hashes) whatever follows the tar end marker.
    func drain() throws {
        while pull() > 0 {}
        if let failure { throw failure }
    }
}

/// A libarchive tar reader fed from a `DecompressedStream` through a read callback, so the
/// bytes are decompressed once and hashed once.
final class TarReader {
    let archive: OpaquePointer
    let stream: DecompressedStream
    private let path: String

    init(stream: DecompressedStream, path: String) throws {
        guard let archive = archive_read_new() else { throw LayerError.unreadable(path: path, reason: "out of memory") }
        self.archive = archive
        self.stream = stream
        self.path = path
        archive_read_support_format_tar(archive)
        let context = Unmanaged.passUnretained(stream).toOpaque()
        guard archive_read_open(archive, context, nil, tarReadCallback, nil) == ARCHIVE_OK else {
            throw failure()
        }
    }

    deinit { archive_read_free(archive) }

    /// The next entry header, or nil after the last one.
    func next() throws -> OpaquePointer? {
        var entry: OpaquePointer?
        switch archive_read_next_header(archive, &entry) {
        case ARCHIVE_OK, ARCHIVE_WARN: return entry
        case ARCHIVE_EOF: return nil
        default: throw failure()
        }
    }

    /// Streams the current entry's data to `sink(offset, bytes)`; returns the end offset of the
    /// last block (a sparse file may be shorter than its size).
    func readData(_ sink: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        var end: Int64 = 0
        while true {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            let r = archive_read_data_block(archive, &block, &size, &offset)
            if r == ARCHIVE_EOF { return end }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN else { throw failure() }
            if size > 0, let block {
                try sink(offset, UnsafeRawBufferPointer(start: block, count: size))
                end = max(end, offset + Int64(size))
            }
        }
    }

    /// The error to report for a failed libarchive call: the stream's own (bomb, truncation)
    /// when it has one, which libarchive only saw as a failed read.
    func failure() -> LayerError {
        stream.failure ?? .corruptArchive(path: path, reason: archiveMessage(archive))
    }
}

private let tarReadCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?,
                                            UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t = { _, context, out in
    guard let context, let out else { return -1 }
    let stream = Unmanaged<DecompressedStream>.fromOpaque(context).takeUnretainedValue()
    let n = stream.pull()
    out.pointee = stream.bytes
    return la_ssize_t(n)
}

/// libarchive's message for the last failure on `archive`.
func archiveMessage(_ archive: OpaquePointer) -> String {
    if let message = archive_error_string(archive) { return String(cString: message) }
    return "unknown libarchive error"
}
