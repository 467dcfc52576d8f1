/// Demultiplexes docker's stdcopy framing (Engine API "Stream format"): each frame is an
/// 8-byte header `[stream, 0, 0, 0, size (UInt32 big-endian)]` followed by `size` bytes.
/// Frames may be split across reads in any way; `feed` keeps the partial rest.
struct StdCopyDemuxer {
    /// The stream a frame belongs to.
    enum Stream: UInt8 {
        case stdin = 0
        case stdout = 1
        case stderr = 2
        /// An error from the daemon itself (moby ≥ 23); the payload is its message.
        case systemError = 3
    }

    /// One complete frame.
    struct Frame: Equatable {
        let stream: Stream
        let payload: [UInt8]
    }

    private var pending: [UInt8] = []

    /// Appends `bytes` and returns every frame now complete, in order. Throws on an unknown
    /// stream byte (the stream is not stdcopy-framed).
    mutating func feed(_ bytes: [UInt8]) throws -> [Frame] {
        pending += bytes
        var frames: [Frame] = []
        var offset = 0
        while pending.count - offset >= 8 {
            guard let stream = Stream(rawValue: pending[offset]) else {
                throw CLIError.protocolViolation("unrecognized stream header byte \(pending[offset])")
            }
            let size = Int(pending[offset + 4]) << 24 | Int(pending[offset + 5]) << 16
                | Int(pending[offset + 6]) << 8 | Int(pending[offset + 7])
            guard pending.count - offset - 8 >= size else { break }
            frames.append(Frame(stream: stream, payload: Array(pending[(offset + 8)..<(offset + 8 + size)])))
            offset += 8 + size
        }
        pending.removeSubrange(0..<offset)
        return frames
    }
}
