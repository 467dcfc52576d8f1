import Glibc
/// One line of a JSON progress stream (pull, push, import, load), as in moby's
/// `pkg/jsonmessage`.
struct JSONMessage: Decodable {
    /// `{"current": n, "total": m}` of a progress line.
    struct ProgressDetail: Decodable {
        let current: Int64?
        let total: Int64?
    }

    /// `{"message": …}` of an error line.
    struct ErrorDetail: Decodable {
        let message: String?
    }

    /// Any JSON value whose content the CLI does not need (the `aux` payload).
    struct Opaque: Decodable {
        init(from decoder: Decoder) throws {}
    }

    let status: String?
    let id: String?
    let progress: String?
    let progressDetail: ProgressDetail?
    let stream: String?
    let error: String?
    let errorDetail: ErrorDetail?
    let aux: Opaque?
}

/// Prints a JSON progress stream the way docker does: on a terminal each layer keeps its own
/// line, updated in place; otherwise one line per event, skipping byte-count updates.
struct JSONMessagePrinter {
    private let terminal: Bool
    /// Where `print` writes.
    let outputFD: Int32
    private var lines: [String: Int] = [:]
    /// When each transfer (by id) was first seen, and how far along it was then: the base of
    /// its speed and time left.
    private var transfers: [String: (seconds: Double, bytes: Int64)] = [:]
    /// Seconds on a monotonic clock; replaceable so tests can fix time.
    var clock: () -> Double = {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// A printer writing to `outputFD`, which is a terminal when `terminal` is true.
    init(terminal: Bool, outputFD: Int32) {
        self.terminal = terminal
        self.outputFD = outputFD
    }

    /// The text to write for `message`.
    mutating func render(_ message: JSONMessage) throws -> String {
        if message.error != nil || message.errorDetail != nil {
            throw CLIError.stream(message: message.errorDetail?.message ?? message.error ?? "unknown error")
        }
        if message.aux != nil { return "" }
        var out = ""
        var down = 0
        let hasProgress = message.progressDetail != nil || message.progress != nil
        if let id = message.id, hasProgress {
            let line: Int
            if let known = lines[id] {
                line = known
            } else {
                line = lines.count
                lines[id] = line
                if terminal { out += "\n" }
            }
            down = lines.count - line
            if terminal { out += "\u{1b}[\(down)A" }
        } else {
            lines.removeAll()
        }
        let progressText = terminal ? barText(message) : JSONMessagePrinter.progressText(message)
        var endOfLine = "\n"
        if terminal && message.stream == nil && hasProgress {
            out += "\u{1b}[2K\r"
            endOfLine = "\r"
        } else if !progressText.isEmpty {
            return out
        }
        if let id = message.id { out += "\(id): " }
        if let stream = message.stream {
            out += stream
        } else if terminal && !progressText.isEmpty {
            out += "\(message.status ?? "") \(progressText)\(endOfLine)"
        } else {
            out += "\(message.status ?? "")\(endOfLine)"
        }
        if message.id != nil && terminal && down > 0 { out += "\u{1b}[\(down)B" }
        return out
    }

    /// On a terminal: docker's bar with the bytes so far and in all, then the speed and the
    /// time left once they can be told (`[=====>      ]  12.3MB/45.6MB  10.2MB/s  3s`).
    private mutating func barText(_ message: JSONMessage) -> String {
        guard let id = message.id, let detail = message.progressDetail, let current = detail.current,
              let total = detail.total, total > 0 else { return JSONMessagePrinter.progressText(message) }
        let now = clock()
        let start = transfers[id] ?? (now, current)
        transfers[id] = start
        let width = 40
        let filled = Int(min(Int64(width), current * Int64(width) / total))
        let bar = filled == 0 ? "" : String(repeating: "=", count: filled - 1) + (filled < width ? ">" : "=")
        var text = "[\(bar)\(String(repeating: " ", count: width - filled))]  \(ByteSize.humanSize(current))/\(ByteSize.humanSize(total))"
        let elapsed = now - start.seconds
        let speed = elapsed >= 0.2 ? Double(current - start.bytes) / elapsed : 0
        if speed > 0 {
            text += "  \(ByteSize.humanSize(Int64(speed)))/s"
            if current < total { text += "  " + JSONMessagePrinter.duration(Double(total - current) / speed) }
        }
        return text
    }

    /// `3s`, `2m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60 < 10 ? "0" : "")\(s % 60)s" }
        return "\(s / 3600)h\(s % 3600 / 60 < 10 ? "0" : "")\(s % 3600 / 60)m"
    }

    /// The progress bar text of a line, empty when it carries no byte counts (docker prints
    /// only such lines when the output is not a terminal).
    private static func progressText(_ message: JSONMessage) -> String {
        if let text = message.progress, !text.isEmpty { return text }
        guard let detail = message.progressDetail else { return "" }
        let current = detail.current ?? 0
        let total = detail.total ?? 0
        if current <= 0 && total <= 0 { return "" }
        if total <= 0 { return ByteSize.humanSize(current) }
        return "\(ByteSize.humanSize(current))/\(ByteSize.humanSize(total))"
    }
}
