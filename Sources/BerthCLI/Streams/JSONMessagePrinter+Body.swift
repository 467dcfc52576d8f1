import FoundationEssentials

extension JSONMessagePrinter {
    /// Reads the whole stream from `body`, printing as it goes (nothing when `outputFD` is
    /// negative); an error line throws.
    mutating func print(_ body: ResponseBody) throws {
        try body.forEachLine { line in
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0d }) else { return }
            guard let message = try? APICoding.plainDecoder.decode(JSONMessage.self, from: Data(line)) else {
                throw CLIError.protocolViolation("bad progress line \"\(String(decoding: line, as: UTF8.self))\"")
            }
            let text = try render(message)
            if outputFD >= 0 { try FDIO.write(outputFD, text) }
        }
    }
}
