/// docker's stdcopy framing: an 8-byte header `[stream, 0, 0, 0, size (big-endian u32)]` then
/// `size` bytes. Stream 1 is stdout, 2 stderr.
enum StdCopy {
    static func frame(stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + payload
    }
}
