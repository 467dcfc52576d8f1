import CArchive
import Glibc

/// Tells whether a file is a tar archive (plain, or compressed with gzip, bzip2, xz or zstd,
/// as libarchive reads them): its first header reads as a tar entry. A file that only starts
/// like a compressed stream (a `.gz` of something else) is not one.
public enum TarProbe {
    public static func isTar(_ path: String) -> Bool {
        guard let archive = archive_read_new() else { return false }
        defer { archive_read_free(archive) }
        for enable in [archive_read_support_filter_gzip, archive_read_support_filter_zstd,
                       archive_read_support_filter_xz, archive_read_support_filter_bzip2] {
            guard enable(archive) == ARCHIVE_OK else { return false }
        }
        archive_read_support_format_tar(archive)
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard archive_read_open_fd(archive, fd, 1 << 16) == ARCHIVE_OK else { return false }
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        return status == ARCHIVE_OK || status == ARCHIVE_WARN || status == ARCHIVE_EOF
    }
}
