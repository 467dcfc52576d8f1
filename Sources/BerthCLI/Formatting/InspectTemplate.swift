/// The subset of Go templates that `inspect --format` scripts use: literal text, `{{.A.B}}`,
/// `{{.}}` and `{{json .A.B}}`, evaluated on the raw JSON of each object. Values print as Go
/// prints them: strings bare, `<nil>` for null, `[a b]` for arrays, `map[k:v]` for objects,
/// `<no value>` for a missing field.
struct InspectTemplate {
    private enum Part {
        case text(String)
        case field(path: [String], json: Bool)
    }

    private let parts: [Part]

    /// Parses `template`; throws on an action outside the subset.
    init(_ template: String) throws {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            parts.append(.text(String(rest[..<open.lowerBound])))
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw CLIError.failed("template parsing error: unclosed action in \"\(template)\"")
            }
            var action = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: " \t-")
            var json = false
            if action.hasPrefix("json ") {
                json = true
                action = String(action.dropFirst(5)).trimmingCharacters(in: " ")
            }
            guard action.hasPrefix(".") else {
                throw CLIError.failed("template parsing error: unsupported action {{\(action)}} (supported: {{.Field}}, {{json .Field}})")
            }
            let path = action.dropFirst().split(separator: ".").map(String.init)
            parts.append(.field(path: path, json: json))
            rest = rest[close.upperBound...]
        }
        parts.append(.text(String(rest)))
        self.parts = parts
    }

    /// The template applied to one JSON object.
    func render(_ json: [UInt8]) -> String {
        let scanner = JSONScanner(json)
        var out = ""
        for part in parts {
            switch part {
            case .text(let text):
                out += text
            case .field(let path, let asJSON):
                guard let value = scanner.value(at: path) else {
                    out += "<no value>"
                    continue
                }
                out += asJSON ? InspectTemplate.compact(value) : InspectTemplate.goText(Array(value))
            }
        }
        return out
    }

    /// A value as Go's `fmt` prints the decoded `interface{}`.
    static func goText(_ value: [UInt8]) -> String {
        guard let first = value.first else { return "" }
        let scanner = JSONScanner(value)
        switch first {
        case 0x22:
            return JSONScanner.decodeString(value[...]) ?? ""
        case 0x5b:
            return "[" + scanner.elements(ofArrayAt: 0).map { goText(Array(value[$0])) }.joined(separator: " ") + "]"
        case 0x7b:
            let members = scanner.members(ofObjectAt: 0).sorted { $0.0 < $1.0 }
            return "map[" + members.map { "\($0.0):\(goText(Array(value[$0.1])))" }.joined(separator: " ") + "]"
        default:
            let text = String(decoding: value, as: UTF8.self)
            return text == "null" ? "<nil>" : text
        }
    }

    /// The JSON text without whitespace outside strings.
    static func compact(_ value: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var inString = false
        var escaped = false
        for byte in value {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == 0x5c { escaped = true } else if byte == 0x22 { inString = false }
            } else if byte == 0x22 {
                inString = true
                out.append(byte)
            } else if ![0x20, 0x0a, 0x0d, 0x09].contains(byte) {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
