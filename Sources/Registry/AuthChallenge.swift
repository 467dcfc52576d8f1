/// A `WWW-Authenticate` challenge (RFC 7235) as registries send it: `Bearer realm="…",
/// service="…",scope="…"` (distribution's token authentication) or `Basic realm="…"`.
public struct AuthChallenge: Sendable, Equatable {
    /// The authentication schemes Berth answers.
    public enum Scheme: String, Sendable {
        case basic, bearer
    }

    /// Which scheme the registry asks for.
    public var scheme: Scheme
    /// Parameters by lowercased name (`realm`, `service`, `scope`, `error`).
    public var parameters: [String: String]

    /// Parses one challenge; nil for a scheme Berth does not speak or a malformed header.
    public init?(header: String) {
        let trimmed = header.drop(while: { $0 == " " })
        guard let space = trimmed.firstIndex(of: " ") ?? (trimmed.isEmpty ? nil : trimmed.endIndex) else { return nil }
        guard let scheme = Scheme(rawValue: trimmed[..<space].lowercased()) else { return nil }
        self.scheme = scheme
        guard let parameters = AuthChallenge.parameters(trimmed[space...]) else { return nil }
        self.parameters = parameters
    }

    /// `name=value` or `name="quoted, value"` pairs separated by commas.
    static func parameters(_ text: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        var rest = text[...]
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            if rest.isEmpty { return result }
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let name = rest[..<equals].trimmingCharacters(" ").lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var closed = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { closed = true; break }
                    value.append(c)
                }
                guard closed else { return nil }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(" ")
                rest = rest[end...]
            }
            result[name] = value
        }
    }

    /// Where tokens are fetched (bearer), or the realm's name (basic).
    public var realm: String? { parameters["realm"] }
    /// The `service` to name when fetching a token.
    public var service: String? { parameters["service"] }
    /// The scope the registry wants a token for, if it says.
    public var scope: String? { parameters["scope"] }
}

extension Substring {
    func trimmingCharacters(_ character: Character) -> String {
        var s = self
        while s.first == character { s = s.dropFirst() }
        while s.last == character { s = s.dropLast() }
        return String(s)
    }
}
