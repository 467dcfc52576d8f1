import Testing
@testable import Builder

@Suite struct HostileInputTests {
    @Test func deeplyNestedJSONIsReadWithoutRecursion() throws {
        let depth = 100_000
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(syntaxMessage("FROM a\nCMD [\"ok\", " + nested + "]\n") == "when using JSON array syntax, arrays must be comprised of strings only")
        let unclosed = try #require(try onlyInstruction("CMD " + String(repeating: "[", count: depth) + "\n"))
        #expect(unclosed.json == nil)
    }

    @Test func deeplyNestedSubstitutionsAreRejected() throws {
        let depth = 50_000
        let text = String(repeating: "${a:-", count: depth) + "x" + String(repeating: "}", count: depth)
        guard case .expansion(let message) = thrownError({ _ = try WordExpander().expand(text, env: [:]) }) else {
            Issue.record("expected an expansion error")
            return
        }
        #expect(message.hasSuffix("substitutions are nested more than 256 deep"))
        #expect(try WordExpander().expand("${a:-${b:-${c:-deep}}}", env: [:]) == "deep")
    }

    @Test func longLinesAndManyInstructions() throws {
        let long = String(repeating: "x", count: 1_000_000)
        let instruction = try #require(try onlyInstruction("RUN echo " + long + "\n"))
        #expect(instruction.arguments.utf8.count == 1_000_005)
        let many = "FROM a\n" + String(repeating: "RUN echo step \\\n  && true\n", count: 5_000)
        let file = try Dockerfile(parsing: many)
        #expect(file.stages[0].instructions.count == 5_000)
        #expect(file.stages[0].instructions.last?.line == 10_000)
    }

    @Test func controlCharactersAndNULsAreKept() throws {
        let instruction = try #require(try onlyInstruction("RUN printf 'a\u{0}b\u{7}c'\n"))
        #expect(instruction.arguments == "printf 'a\u{0}b\u{7}c'")
    }

    @Test func combiningMarksDoNotHideQuotesOrSlashes() throws {
        let pairs = try #require(try onlyInstruction("ENV a=\"x\u{301}\" b=c\n")).keyValuePairs(env: [:], expander: WordExpander())
        #expect(pairs.map(\.key) == ["a", "b"])
        #expect(pairs.map(\.value) == ["x\u{301}", "c"])
        #expect(DockerIgnore(parsing: "dir\n").excludes("dir/\u{301}file"))
    }

    @Test func unbalancedQuotesFailOnlyWhenExpanded() throws {
        let instruction = try #require(try onlyInstruction("ENV a=\"unterminated\n"))
        #expect(instruction.arguments == "a=\"unterminated")
        #expect(thrownError { _ = try instruction.keyValuePairs(env: [:], expander: WordExpander()) }
            == .expansion("failed to process \"\\\"unterminated\": unexpected end of statement while looking for matching double-quote"))
    }

    @Test func garbageLinesAreUnknownInstructions() {
        #expect(parseError("FROM a\n\u{1}\u{2}\u{3} ???\n") == .unknownInstruction(file: "Dockerfile", line: 2, keyword: "\u{1}\u{2}\u{3}"))
        #expect(parseError("FROM a\n=== x\n") == .unknownInstruction(file: "Dockerfile", line: 2, keyword: "==="))
        #expect(parseError("\u{FEFF}\u{FEFF}FROM a\n") == .unknownInstruction(file: "Dockerfile", line: 1, keyword: "\u{FEFF}FROM"))
    }

    @Test func loneCarriageReturnsAreNotLineBreaks() throws {
        let instruction = try #require(try onlyInstruction("RUN a\rb\n"))
        #expect(instruction.arguments == "a\rb")
    }

    @Test func manyHeredocsOnOneLine() throws {
        let names = (0..<200).map { "H\($0)" }
        let text = "COPY " + names.map { "<<" + $0 }.joined(separator: " ") + " /dst/\n" + names.map { "body \($0)\n\($0)\n" }.joined()
        let instruction = try #require(try onlyInstruction(text))
        #expect(instruction.heredocs.count == 200)
        #expect(instruction.heredocs.last?.content == "body H199\n")
    }

    @Test func longOnbuildChainsAreRejectedWithoutDeepRecursion() {
        let chain = "FROM a\n" + String(repeating: "ONBUILD ", count: 20_000) + "RUN x\n"
        #expect(syntaxMessage(chain) == "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    }

    @Test func pathologicalGlobsStayFast() throws {
        let pattern = String(repeating: "*a", count: 200) + "b"
        let path = String(repeating: "a", count: 5_000)
        #expect(try PathGlob.matches(pattern, path) == false)
        let rules = DockerIgnore(parsing: String(repeating: "**/", count: 100) + "x\n")
        #expect(rules.excludes(String(repeating: "d/", count: 300) + "x"))
    }
}
