import Testing
@testable import Builder

@Suite struct CopyPathsTests {
    let expander = WordExpander()

    @Test func shellFormSourcesAndDestination() throws {
        let instruction = try #require(try onlyInstruction("COPY --from=build  a.txt  $DIR/*.go   /app/$SUB/\n"))
        let paths = try instruction.copyPaths(env: ["DIR": "src", "SUB": "bin"], expander: expander)
        #expect(paths.sources == ["a.txt", "src/*.go"])
        #expect(paths.destination == "/app/bin/")
    }

    @Test func jsonFormAllowsSpaces() throws {
        let instruction = try #require(try onlyInstruction("ADD [\"my file.txt\", \"${X}\", \"/dst dir/\"]\n"))
        let paths = try instruction.copyPaths(env: ["X": "other"], expander: expander)
        #expect(paths.sources == ["my file.txt", "other"])
        #expect(paths.destination == "/dst dir/")
    }

    @Test func quotesDoNotGroupShellFormWords() throws {
        let instruction = try #require(try onlyInstruction("COPY \"a\" 'b c' /d/\n"))
        #expect(thrownError { _ = try instruction.copyPaths(env: [:], expander: expander) }
            == .expansion("failed to process \"'b\": unexpected end of statement while looking for matching single-quote"))
    }

    @Test func tooFewWordsIsAnError() throws {
        let lone = Instruction(keyword: "COPY", flags: [], arguments: "onlyone", heredocs: [], line: 4, source: "COPY onlyone", json: nil, file: "Dockerfile")
        #expect(thrownError { _ = try lone.copyPaths(env: [:], expander: expander) }
            == .syntax(file: "Dockerfile", line: 4, message: "COPY requires at least two arguments, but only one was provided. Destination could not be determined"))
        #expect(syntaxMessage("FROM a\nCOPY [\"one\"]\n")?.hasPrefix("COPY requires at least two arguments") == true)
    }

    @Test func windowsPathsWithBacktickEscape() throws {
        let file = try Dockerfile(parsing: "# escape=`\nFROM a\nCOPY C:\\src\\*.dll `\n    C:\\app\\\n")
        let paths = try file.stages[0].instructions[0].copyPaths(env: [:], expander: WordExpander(escape: file.escape))
        #expect(paths.sources == ["C:\\src\\*.dll"])
        #expect(paths.destination == "C:\\app\\")
    }
}
