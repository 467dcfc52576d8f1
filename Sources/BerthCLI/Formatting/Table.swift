/// Column layout like Go's `text/tabwriter` as docker configures it (`minwidth`, padding 3,
/// space-filled): every column but the last is padded to its widest cell plus the padding,
/// and at least `minWidth`. Widths count Unicode scalars, as tabwriter counts runes.
struct Table {
    private let minWidth: Int
    private let padding: Int
    private var rows: [[String]] = []

    /// A table whose header row is `header`.
    init(header: [String], minWidth: Int = 10, padding: Int = 3) {
        self.minWidth = minWidth
        self.padding = padding
        rows.append(header)
    }

    /// Appends a row.
    mutating func append(_ row: [String]) { rows.append(row) }

    /// The laid-out text, one line per row, each ending in a newline.
    var rendered: String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < row.count - 1 {
                widths[i] = max(widths[i], max(cell.unicodeScalars.count + padding, minWidth))
            }
        }
        var out = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                out += cell
                if i < row.count - 1 {
                    out += String(repeating: " ", count: widths[i] - cell.unicodeScalars.count)
                }
            }
            out += "\n"
        }
        return out
    }
}
