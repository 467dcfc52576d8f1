import NIOCore

/// docker's stdcopy framing: an 8-byte header `[stream, 0, 0, 0, size (big-endian u32)]` then
/// `size` bytes. Stream 1 is stdout, 2 stderr.
enum StdCopy {
    static func frame(stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + payload
    }
}

/// Strips stdcopy headers from a byte stream that may split frames anywhere.
struct StdCopyDeframer {
    private var header: [UInt8] = []
    private var remaining = 0

    /// The payload bytes contained in `buffer`, in order.
    mutating func feed(_ buffer: inout ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        while buffer.readableBytes > 0 {
            if remaining == 0 {
                guard let byte = buffer.readInteger(as: UInt8.self) else { break }
                header.append(byte)
                if header.count == 8 {
                    remaining = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
                    header = []
                }
            } else {
                let n = min(remaining, buffer.readableBytes)
                if let bytes = buffer.readBytes(length: n) { out += bytes }
                remaining -= n
            }
        }
        return out
    }
}
