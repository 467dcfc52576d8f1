import BerthSystem
import Testing

@Suite struct JSONEscapeTests {
    private func escaped(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        JSONEscape.append(bytes[...], to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func plainRunsAreCopiedAndSpecialBytesEscaped() {
        #expect(escaped(Array("plain text / ok".utf8)) == "plain text / ok")
        #expect(escaped(Array("a\"b\\c\nd\te\u{01}f".utf8)) == #"a\"b\\c\nd\te\u0001f"#)
        #expect(escaped(Array("é🚢".utf8)) == "é🚢")
    }

    @Test func malformedUTF8BecomesReplacementCharacters() {
        // A lone continuation byte, an overlong encoding and a truncated sequence at the end.
        #expect(escaped([0x61, 0x80, 0x62, 0xC0, 0xAF, 0x63, 0xE2, 0x82]) == #"a\ufffdb\ufffd\ufffdc\ufffd\ufffd"#)
    }

    @Test func bufferAndSliceGiveTheSameResult() {
        let bytes = Array("x\"y\u{7f}\u{1f}z".utf8)
        var fromBuffer: [UInt8] = []
        bytes.withUnsafeBufferPointer { JSONEscape.append($0, to: &fromBuffer) }
        #expect(String(decoding: fromBuffer, as: UTF8.self) == escaped(bytes))
    }
}
