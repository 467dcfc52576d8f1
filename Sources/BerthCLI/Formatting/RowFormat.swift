import FoundationEssentials

/// `--format` for list commands (`ps`, `images`): docker's Go-template subset applied to each
/// row's fields (`{{.ID}}`, `{{.Names}}`, `{{json .}}`), and `table …` for a table whose header
/// names the fields as docker does.
struct RowFormat {
    private let template: InspectTemplate
    private let columns: [String]?

    /// Parses `format`; `headers` maps field names to docker's column titles.
    init(_ format: String, headers: [String: String]) throws {
        // docker's templates write tabs and newlines as `\t` and `\n`.
        var text = format.replacing("\\t", with: "\t").replacing("\\n", with: "\n")
        if text.hasPrefix("table") {
            text = String(text.dropFirst("table".count)).trimmingCharacters(in: " ")
            columns = text.split(separator: "\t", omittingEmptySubsequences: false).map { cell in
                let field = String(cell).trimmingCharacters(in: " {}.")
                return headers[field] ?? field.uppercased()
            }
        } else {
            columns = nil
        }
        template = try InspectTemplate(text)
    }

    /// The output for rows given as field → value maps.
    func render(_ rows: [[String: String]]) throws -> String {
        let lines = try rows.map { row -> String in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return template.render(Array(try encoder.encode(row)))
        }
        guard let columns else { return lines.map { $0 + "\n" }.joined() }
        var table = Table(header: columns)
        for line in lines { table.append(line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)) }
        return table.rendered
    }
}
