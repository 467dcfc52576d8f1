import CIsal
import Glibc

/// gzip compression with Intel ISA-L's igzip at its level 1: one gzip member (generic header,
/// no name, no time, so equal input gives equal output), several times faster than zlib's
/// default level on layer content, at somewhat larger output. Compressed bytes are handed to
/// the caller's sink as they are made.
final class GzipDeflater {
    private let stream: UnsafeMutablePointer<isal_zstream>
    private let levelBuffer: UnsafeMutableRawPointer
    private let output: UnsafeMutablePointer<UInt8>
    private let outputSize = 1 << 20

    init() {
        stream = .allocate(capacity: 1)
        let levelSize = Int(berth_isal_level1_buffer_size())
        levelBuffer = .allocate(byteCount: levelSize, alignment: 16)
        output = .allocate(capacity: outputSize)
        isal_deflate_init(stream)
        stream.pointee.level = 1
        stream.pointee.level_buf = levelBuffer.assumingMemoryBound(to: UInt8.self)
        stream.pointee.level_buf_size = UInt32(levelSize)
        stream.pointee.gzip_flag = UInt16(IGZIP_GZIP)
        stream.pointee.flush = UInt16(NO_FLUSH)
    }

    deinit {
        stream.deallocate()
        levelBuffer.deallocate()
        output.deallocate()
    }

    /// Compresses `bytes`, passing whatever output is ready to `sink`; false from `sink` or an
    /// igzip error stops and returns false.
    func compress(_ bytes: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return true }
        var offset = 0
        while offset < bytes.count {
            // avail_in is 32 bits wide; larger buffers go in pieces.
            let piece = min(bytes.count - offset, Int(UInt32.max >> 1))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base.advanced(by: offset).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(piece)
            guard drain(sink: sink) else { return false }
            offset += piece
        }
        return true
    }

    /// Ends the stream (the last block and gzip's trailer) through `sink`.
    func finish(sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        stream.pointee.end_of_stream = 1
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        return drain(sink: sink)
    }

    /// Runs igzip until it has taken all input (and, at the end, written the trailer).
    private func drain(sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        repeat {
            stream.pointee.next_out = output
            stream.pointee.avail_out = UInt32(outputSize)
            guard isal_deflate(stream) == COMP_OK else { return false }
            let produced = outputSize - Int(stream.pointee.avail_out)
            if produced > 0, !sink(UnsafeRawBufferPointer(start: output, count: produced)) { return false }
        } while stream.pointee.avail_in > 0 || (stream.pointee.end_of_stream != 0 && stream.pointee.internal_state.state != ZSTATE_END)
        return true
    }
}
