import Testing
@testable import Runtime

@Suite struct JSONSpanTests {
    static func span(_ text: String) -> String? {
        JSONSpan.value(at: ["linux", "seccomp"], in: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func findsTheValueWithoutDecodingIt() {
        #expect(Self.span(#"{"linux": {"seccomp": {"a": [1, "}", {"b": "x\"y"}]}, "z": 1}}"#) == #"{"a": [1, "}", {"b": "x\"y"}]}"#)
        #expect(Self.span(#" { "process": {"args": ["{"]}, "linux" : { "seccomp" : null } } "#) == "null")
    }

    @Test func theLastOfRepeatedKeysWins() {
        #expect(Self.span(#"{"linux": {"seccomp": 1, "seccomp": 2}}"#) == "2")
        #expect(Self.span(#"{"linux": {"seccomp": 1}, "linux": {"x": 0}}"#) == nil)
    }

    @Test func escapedKeysAndMalformedDocumentsGiveNothing() {
        #expect(Self.span(#"{"linux": {"seccom\u0070": {}}}"#) == nil)
        #expect(Self.span(#"{"linux": {"seccomp": {"#) == nil)
        #expect(Self.span(#"{"linux": ["seccomp"]}"#) == nil)
        #expect(Self.span("") == nil)
        #expect(Self.span(#"{"linux": {"seccomp": "unterminated}}"#) == nil)
    }
}
