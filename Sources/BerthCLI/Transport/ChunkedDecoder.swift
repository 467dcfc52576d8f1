/// Incremental decoder for HTTP/1.1 `Transfer-Encoding: chunked` bodies (RFC 9112 §7.1).
/// Feed it bytes as they arrive from the socket; it returns the payload bytes they contain and
/// reports when the terminating zero-size chunk and trailers have been read.
struct ChunkedDecoder {
    private enum State {
        case size(line: [UInt8])
        case data(remaining: Int)
        case dataEnd(seen: Int)
        case trailer(line: [UInt8])
        case finished
    }

    private var state: State = .size(line: [])

    /// True once the whole body, including trailers, has been consumed.
    var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Decodes `input` and returns the payload bytes it carried. Bytes after the end of the body
    /// are ignored. Throws `CLIError.protocolViolation` on a malformed chunk header.
    mutating func feed<C: Collection>(_ input: C) throws -> [UInt8] where C.Element == UInt8, C.Index == Int {
        var output: [UInt8] = []
        var i = input.startIndex
        while i < input.endIndex {
            switch state {
            case .finished:
                return output
            case .size(var line):
                let byte = input[i]
                i += 1
                if byte == 0x0a {
                    let size = try ChunkedDecoder.parseSize(line)
                    state = size == 0 ? .trailer(line: []) : .data(remaining: size)
                } else {
                    line.append(byte)
                    guard line.count <= 1024 else { throw CLIError.protocolViolation("chunk size line too long") }
                    state = .size(line: line)
                }
            case .data(let remaining):
                let take = min(remaining, input.endIndex - i)
                output.append(contentsOf: input[i..<(i + take)])
                i += take
                state = remaining - take == 0 ? .dataEnd(seen: 0) : .data(remaining: remaining - take)
            case .dataEnd(let seen):
                let byte = input[i]
                i += 1
                if byte == 0x0a {
                    state = .size(line: [])
                } else if byte == 0x0d && seen == 0 {
                    state = .dataEnd(seen: 1)
                } else {
                    throw CLIError.protocolViolation("missing CRLF after chunk data")
                }
            case .trailer(var line):
                let byte = input[i]
                i += 1
                if byte == 0x0a {
                    if line.isEmpty || line == [0x0d] {
                        state = .finished
                    } else {
                        state = .trailer(line: [])
                    }
                } else {
                    line.append(byte)
                    state = .trailer(line: line)
                }
            }
        }
        return output
    }

    /// Parses `1a3f[;extension][\r]` into a size.
    private static func parseSize(_ line: [UInt8]) throws -> Int {
        var digits = line
        if let semicolon = digits.firstIndex(of: 0x3b) { digits.removeSubrange(semicolon...) }
        while let last = digits.last, last == 0x0d || last == 0x20 || last == 0x09 { digits.removeLast() }
        guard !digits.isEmpty, digits.count <= 15,
              let size = Int(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0 else {
            throw CLIError.protocolViolation("invalid chunk size \"\(String(decoding: line, as: UTF8.self))\"")
        }
        return size
    }
}
