import Glibc

/// Completes a plain tar whose last entry is whole but whose end is missing: the padding of
/// the last entry's data to a 512-byte block and the two zero blocks that end an archive.
/// docker's CLI sends a build context so when its Dockerfile comes from outside the context
/// (Go's tar wrapper stops after the last entry's data); dockerd's reader accepts that, and
/// libarchive reports a truncated file. An entry whose data is cut short is left as it is, so
/// a truncated upload is still refused when unpacked.
public enum TarTrailer {
    static let block = 512

    /// Appends what the tar at `path` lacks after its last complete entry; answers how many
    /// bytes were appended (0 when it already ends properly, or its last entry is cut short).
    @discardableResult
    public static func complete(_ path: String) throws -> Int {
        let fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw LayerError.fileSystem(entry: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LayerError.fileSystem(entry: path, operation: "stat", errno: errno) }
        guard let missing = missingBytes(fd, size: Int64(st.st_size)), missing > 0 else { return 0 }
        let zeros = [UInt8](repeating: 0, count: missing)
        let written = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, missing, off_t(st.st_size)) }
        guard written == missing else { throw LayerError.fileSystem(entry: path, operation: "complete the tar", errno: errno) }
        return missing
    }

    /// Walks the headers: nil when an entry's data runs past the end (truncated) or a header
    /// does not read as one; else the zero bytes the archive lacks.
    static func missingBytes(_ fd: Int32, size: Int64) -> Int? {
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: block)
        while offset + Int64(block) <= size {
            let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, block, off_t(offset)) }
            guard n == block else { return nil }
            if header.allSatisfy({ $0 == 0 }) { return 0 }
            guard let length = entrySize(header) else { return nil }
            let dataEnd = offset + Int64(block) + length
            guard dataEnd <= size else { return nil }
            let next = offset + Int64(block) + (length + Int64(block) - 1) / Int64(block) * Int64(block)
            if next >= size { return Int(next - size) + 2 * block }
            offset = next
        }
        // Ends between entries, or inside a header (cut short: not ours to complete).
        return offset == size ? 2 * block : nil
    }

    /// The data size a header gives (octal, or base-256 with the high bit set), when its
    /// checksum is right.
    static func entrySize(_ header: [UInt8]) -> Int64? {
        let stored = header[148..<156].prefix { $0 != 0 && $0 != 0x20 }
        guard let checksum = Int64(String(decoding: stored, as: UTF8.self), radix: 8) else { return nil }
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 0x20 : Int64(byte) }
        guard sum == checksum else { return nil }
        let field = header[124..<136]
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { return nil }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        let digits = field.drop { $0 == 0x20 }.prefix { $0 != 0 && $0 != 0x20 }
        return digits.isEmpty ? 0 : Int64(String(decoding: digits, as: UTF8.self), radix: 8)
    }
}
