import CArchive
import Glibc
import ContentDigest
import OCI

/// A PAX tar writer whose output is hashed (the diff ID), then compressed (gzip by igzip,
/// zstd by a second libarchive writer in "raw" format), hashed again (the blob digest) and
/// written to a file: one pass, both digests. A durable sink fsyncs the file before it is done
/// (a layer blob the store will keep); a transient one (an archive read once: a context, a
/// copy, an export) leaves that to the kernel.
final class ArchiveSink {
    let tar: OpaquePointer
    private let compressor: OpaquePointer?
    private let deflater: GzipDeflater?
    private let fd: Int32
    private let path: String
    private(set) var tarHasher = DigestHasher()
    private(set) var fileHasher = DigestHasher()
    private var failure: LayerError?
    private var closed = false
    private let durable: Bool

    init(path: String, compression: LayerCompression, durable: Bool) throws {
        self.path = path
        self.durable = durable
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LayerError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        guard let tar = archive_write_new() else {
            close(fd)
            throw LayerError.writeFailed(path: path, reason: "out of memory")
        }
        self.tar = tar
        compressor = compression == .zstd ? archive_write_new() : nil
        deflater = compression == .gzip ? GzipDeflater() : nil
        archive_write_set_format_pax_restricted(tar)
        archive_write_set_bytes_per_block(tar, Int32(layerBufferSize))
        archive_write_set_bytes_in_last_block(tar, 1)
        let context = Unmanaged.passUnretained(self).toOpaque()
        if let compressor {
            archive_write_set_format_raw(compressor)
            archive_write_add_filter_zstd(compressor)
            archive_write_set_bytes_per_block(compressor, 0)
            guard archive_write_open(compressor, context, nil, fileWriteCallback, nil) == ARCHIVE_OK else {
                throw LayerError.writeFailed(path: path, reason: archiveMessage(compressor))
            }
            let entry = try newEntry()
            defer { archive_entry_free(entry) }
            archive_entry_set_filetype(entry, S_IFREG)
            archive_entry_copy_pathname(entry, "layer.tar")
            guard archive_write_header(compressor, entry) == ARCHIVE_OK else {
                throw LayerError.writeFailed(path: path, reason: archiveMessage(compressor))
            }
        }
        guard archive_write_open(tar, context, nil, tarWriteCallback, nil) == ARCHIVE_OK else {
            throw LayerError.writeFailed(path: path, reason: archiveMessage(tar))
        }
    }

    deinit {
        archive_write_free(tar)
        if let compressor { archive_write_free(compressor) }
        if !closed { close(fd) }
    }

    /// Writes an entry header; the entry's data must follow through `writeData`. A warning
    /// still writes the entry: in the C locale libarchive stores non-ASCII names as raw bytes
    /// (`hdrcharset=BINARY`), which every tar reader returns unchanged.
    func writeHeader(_ entry: OpaquePointer) throws {
        let result = archive_write_header(tar, entry)
        guard result == ARCHIVE_OK || result == ARCHIVE_WARN else { throw error(tar) }
    }

    /// Writes the current entry's data.
    func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard archive_write_data(tar, bytes.baseAddress, bytes.count) >= 0 else { throw error(tar) }
    }

    /// Finishes the tar and the compressed stream, fsyncs the file when durable, and returns
    /// what was written.
    func finish() throws -> WrittenLayer {
        guard archive_write_close(tar) == ARCHIVE_OK else { throw error(tar) }
        if let compressor {
            guard archive_write_close(compressor) == ARCHIVE_OK else { throw error(compressor) }
        }
        if let deflater, !deflater.finish(sink: { acceptFile($0) == $0.count }) {
            throw failure ?? .writeFailed(path: path, reason: "gzip compression failed")
        }
        if let failure { throw failure }
        guard !durable || fsync(fd) == 0 else { throw LayerError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        closed = true
        guard close(fd) == 0 else { throw LayerError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        return WrittenLayer(digest: fileHasher.finalize(), size: fileHasher.count, diffID: tarHasher.finalize())
    }

    /// Tar bytes: hashed for the diff ID, then compressed (or written as they are).
    fileprivate func acceptTar(_ bytes: UnsafeRawBufferPointer) -> Int {
        tarHasher.update(bytes)
        if let deflater {
            guard deflater.compress(bytes, sink: { acceptFile($0) == $0.count }) else {
                failure = failure ?? .writeFailed(path: path, reason: "gzip compression failed")
                return -1
            }
            return bytes.count
        }
        guard let compressor else { return acceptFile(bytes) }
        return archive_write_data(compressor, bytes.baseAddress, bytes.count) == bytes.count ? bytes.count : -1
    }

    /// Final bytes: hashed for the blob digest and written to the file.
    fileprivate func acceptFile(_ bytes: UnsafeRawBufferPointer) -> Int {
        fileHasher.update(bytes)
        let code = writeFully(fd, bytes)
        guard code == 0 else {
            failure = failure ?? .writeFailed(path: path, reason: String(cString: strerror(code)))
            return -1
        }
        return bytes.count
    }

    private func error(_ archive: OpaquePointer) -> LayerError {
        failure ?? .writeFailed(path: path, reason: archiveMessage(archive))
    }
}

private let tarWriteCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> la_ssize_t = { _, context, buffer, length in
    guard let context else { return -1 }
    let sink = Unmanaged<ArchiveSink>.fromOpaque(context).takeUnretainedValue()
    return la_ssize_t(sink.acceptTar(UnsafeRawBufferPointer(start: buffer, count: length)))
}

private let fileWriteCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> la_ssize_t = { _, context, buffer, length in
    guard let context else { return -1 }
    let sink = Unmanaged<ArchiveSink>.fromOpaque(context).takeUnretainedValue()
    return la_ssize_t(sink.acceptFile(UnsafeRawBufferPointer(start: buffer, count: length)))
}
