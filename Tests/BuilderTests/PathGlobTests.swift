import Testing
@testable import Builder

@Suite struct PathGlobTests {
    @Test(arguments: [
        ("*.txt", "a.txt", true), ("*.txt", "dir/a.txt", false), ("*/a.txt", "dir/a.txt", true),
        ("a?c", "abc", true), ("a?c", "a/c", false), ("a?c", "ac", false),
        ("[a-c]x", "bx", true), ("[a-c]x", "dx", false), ("[^a-c]x", "dx", true), ("[^a-c]x", "ax", false),
        ("[\\]]", "]", true), ("x\\*", "x*", true), ("x\\*", "xy", false),
        ("*", "", true), ("", "", true), ("", "a", false), ("**", "a/b", false),
        ("dir/*/file", "dir/sub/file", true), ("dir/*/file", "dir/a/b/file", false),
        ("*.tar.*", "x.tar.gz", true), ("h*llo*", "hello world", true),
    ])
    func goMatchSemantics(pattern: String, path: String, expected: Bool) throws {
        #expect(try PathGlob.matches(pattern, path) == expected)
    }

    @Test(arguments: ["[", "[a", "[]", "[^]", "[a-]", "[-a]", "a\\", "x[a-"])
    func malformedPatternsThrow(pattern: String) {
        #expect(thrownError { _ = try PathGlob.matches(pattern, "anything") } == .badPattern(pattern))
    }

    @Test func reversedRangeMatchesNothing() throws {
        #expect(try PathGlob.matches("[z-a]", "m") == false)
    }

    @Test func magic() {
        #expect(PathGlob.hasMagic("src/*.go"))
        #expect(PathGlob.hasMagic("file?.txt"))
        #expect(PathGlob.hasMagic("arr[0].txt"))
        #expect(!PathGlob.hasMagic("plain/path.txt"))
        #expect(!PathGlob.hasMagic("literal\\*star"))
    }

    @Test func badPatternDescription() {
        #expect(DockerfileError.badPattern("[a").description.hasPrefix("syntax error in pattern \"[a\""))
    }
}
