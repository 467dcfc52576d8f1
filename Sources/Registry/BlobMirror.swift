import Glibc
import NIOCore

/// A second destination for a blob's bytes as they download: a descriptor (the write end of a
/// pipe whose reader unpacks the layer at the same time). It only ever receives the blob from
/// its first byte, in order: when a download restarts or resumes in the middle, the mirror
/// closes early, its reader sees a cut-off stream and fails, and the caller falls back to the
/// stored blob. Writes never block a thread: the descriptor is made non-blocking, and a full
/// pipe is waited out with short sleeps.
public final class BlobMirror: @unchecked Sendable {
    private var fd: Int32
    private var next: Int64 = 0

    /// Mirrors into `fd`, which the mirror now owns (closed by `finish`).
    public init(fd: Int32) {
        self.fd = fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Passes on `chunk`, which starts at byte `offset` of the blob.
    func feed(_ chunk: ByteBuffer, at offset: Int64) async {
        guard fd >= 0 else { return }
        guard offset == next else {
            // Out of order (a restarted or resumed download): the reader sees a cut-off stream.
            finish()
            return
        }
        let bytes = Array(chunk.readableBytesView)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                try? await Task.sleep(for: .milliseconds(1))
            } else {
                // The reader is gone (EPIPE): it failed or finished early.
                finish()
                return
            }
        }
        next += Int64(bytes.count)
    }

    /// Closes the descriptor: the reader sees the end of the stream.
    public func finish() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
