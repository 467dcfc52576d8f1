// Character classes and trimming in the terms Go's standard library (and so docker) uses.
// Dockerfile text is processed as Unicode scalars, the way Go processes runes: a Swift
// `Character` may join a quote or a slash with a following combining mark.

extension Unicode.Scalar {
    /// Go's `unicode.IsSpace`, which is Unicode's White_Space property.
    var isGoSpace: Bool { properties.isWhitespace }

    /// One of the characters of docker's `[\t\v\f\r ]+` field separator.
    var isFieldSeparator: Bool {
        switch value {
        case 0x20, 0x09, 0x0B, 0x0C, 0x0D: return true
        default: return false
        }
    }

    /// `0` to `9`.
    var isASCIIDigit: Bool { (0x30...0x39).contains(value) }

    /// Go's `unicode.IsLetter`.
    var isGoLetter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// Go's `unicode.IsDigit`.
    var isGoDigit: Bool { properties.generalCategory == .decimalNumber }
}

extension String {
    /// A string of exactly these scalars.
    init<S: Sequence>(scalars: S) where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self.init(view)
    }

    /// Go's `strings.TrimSpace`.
    func trimmingGoSpace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isGoSpace }),
              let last = scalars.lastIndex(where: { !$0.isGoSpace }) else { return "" }
        return String(scalars[first...last])
    }

    /// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
    func trimmingLeadingGoSpace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isGoSpace }) else { return "" }
        return String(scalars[first...])
    }

    /// The first scalar, if any.
    var firstScalar: Unicode.Scalar? { unicodeScalars.first }

    /// Whether the scalars are exactly the same (no Unicode canonical equivalence, like Go's `==`).
    func hasSameScalars(as other: String) -> Bool {
        unicodeScalars.elementsEqual(other.unicodeScalars)
    }

    /// Whether `<<` occurs anywhere.
    var containsDoubleLessThan: Bool {
        var previous: Unicode.Scalar?
        for scalar in unicodeScalars {
            if scalar == "<" && previous == "<" { return true }
            previous = scalar
        }
        return false
    }
}

/// The text quoted the way Go's `%q` verb quotes it.
func goQuoted(_ text: String) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\t": quoted += "\\t"
        case "\r": quoted += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                quoted += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
    }
    return quoted + "\""
}
