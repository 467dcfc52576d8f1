/// The ways docker's parser cuts an instruction's text into words before any variable
/// expansion (buildkit's `parseWords`, `reWhitespace` and `splitCommand`).
enum DockerWords {
    /// The text split on runs of `[\t\v\f\r ]`, like `reWhitespace.Split(text, -1)` on trimmed
    /// text: no empty words, and none at all for empty text. Quotes mean nothing here.
    static func fields(_ text: String) -> [String] {
        text.unicodeScalars.split(whereSeparator: { $0.isFieldSeparator }).map { String($0) }
    }

    /// The text before the first run of `[\t\v\f\r ]` and the text after it ("" when there is
    /// no such run), like `reWhitespace.Split(text, 2)`.
    static func splitFirst(_ text: String) -> (head: String, tail: String) {
        let scalars = text.unicodeScalars
        guard let separator = scalars.firstIndex(where: { $0.isFieldSeparator }) else { return (text, "") }
        let tailStart = scalars[separator...].firstIndex(where: { !$0.isFieldSeparator }) ?? scalars.endIndex
        return (String(scalars[..<separator]), String(scalars[tailStart...]))
    }

    /// Words split on unquoted whitespace with quotes and escapes kept in the words, so that
    /// `a="x y" b=z` is two words (buildkit's `parseWords`, used for ENV, LABEL and ARG).
    static func split(_ text: String, escape: Unicode.Scalar) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var quote: Unicode.Scalar?
        var blankOK = false
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            if !inWord {
                if scalar.isGoSpace {
                    position += 1
                    continue
                }
                inWord = true
            }
            if let open = quote {
                if scalar == open { quote = nil }
                // Inside single quotes the escape character is an ordinary character.
                if scalar == escape && open != "'" {
                    if position + 1 == scalars.count {
                        quote = nil
                        position += 1
                        continue
                    }
                    word.append(scalar)
                    position += 1
                }
                word.append(scalars[position])
                position += 1
                continue
            }
            if scalar.isGoSpace {
                if blankOK || !word.isEmpty { words.append(String(word)) }
                word = String.UnicodeScalarView()
                blankOK = false
                inWord = false
                position += 1
                continue
            }
            if scalar == "'" || scalar == "\"" {
                quote = scalar
                blankOK = true
            }
            if scalar == escape {
                if position + 1 == scalars.count {
                    position += 1
                    continue
                }
                word.append(scalar)
                position += 1
            }
            word.append(scalars[position])
            position += 1
        }
        if inWord && (blankOK || !word.isEmpty) { words.append(String(word)) }
        return words
    }
}
