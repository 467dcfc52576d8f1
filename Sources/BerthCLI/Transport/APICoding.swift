import FoundationEssentials

/// JSON coding for the Engine API's PascalCase objects (`HostConfig`, `NanoCpus`, `RepoTags`):
/// Swift properties are lowerCamelCase and the first letter is flipped on the wire. Progress
/// messages (`status`, `progressDetail`) are lowercase on the wire and use `plainDecoder`.
enum APICoding {
    /// Encodes lowerCamelCase properties as PascalCase keys.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        encoder.keyEncodingStrategy = .custom { path in
            WireKey(flippingFirstLetterOf: path.last?.stringValue ?? "", upper: true)
        }
        return encoder
    }

    /// Decodes PascalCase keys into lowerCamelCase properties.
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            WireKey(flippingFirstLetterOf: path.last?.stringValue ?? "", upper: false)
        }
        return decoder
    }

    /// Decodes keys exactly as they are.
    static var plainDecoder: JSONDecoder { JSONDecoder() }
}

/// A coding key whose first letter has been upper- or lowercased.
struct WireKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(flippingFirstLetterOf key: String, upper: Bool) {
        guard let first = key.first else {
            stringValue = key
            return
        }
        stringValue = (upper ? first.uppercased() : first.lowercased()) + key.dropFirst()
    }

    init?(stringValue: String) { self.stringValue = stringValue }

    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}
