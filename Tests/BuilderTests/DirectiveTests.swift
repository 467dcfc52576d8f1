import Testing
@testable import Builder

@Suite struct DirectiveTests {
    @Test func backtickEscapeKeepsWindowsBackslashes() throws {
        let text = """
        # escape=`
        FROM mcr.microsoft.com/windows/servercore
        COPY testfile.txt c:\\
        RUN dir c:\\ `
            /b
        """
        let file = try Dockerfile(parsing: text)
        #expect(file.escape == "`")
        let instructions = file.stages[0].instructions
        #expect(instructions.count == 2)
        #expect(instructions[0].arguments == "testfile.txt c:\\")
        #expect(instructions[1].arguments == "dir c:\\     /b")
        #expect(instructions[1].line == 4)
        let paths = try instructions[0].copyPaths(env: [:], expander: WordExpander(escape: file.escape))
        #expect(paths.sources == ["testfile.txt"])
        #expect(paths.destination == "c:\\")
    }

    @Test func defaultEscapeIsBackslash() throws {
        let file = try Dockerfile(parsing: "FROM a\nRUN echo `\n")
        #expect(file.escape == "\\")
        #expect(file.syntax == nil)
        #expect(file.stages[0].instructions[0].arguments == "echo `")
    }

    @Test func syntaxAndCheckAreKeptWithAnyKeyCaseAndSpacing() throws {
        let file = try Dockerfile(parsing: "#   SYNTAX =  docker/dockerfile:1.7  \n# Check=skip=all\n# escape = `\nFROM a\n")
        #expect(file.syntax == "docker/dockerfile:1.7")
        #expect(file.check == "skip=all")
        #expect(file.escape == "`")
    }

    @Test func repeatedDirectiveIsAnError() {
        let error = parseError("# escape=`\n# escape=\\\nFROM a\n")
        #expect(error == .syntax(file: "Dockerfile", line: 2, message: "only one escape parser directive can be used"))
    }

    @Test func invalidEscapeTokenIsAnError() {
        #expect(syntaxMessage("# escape=x\nFROM a\n") == "invalid escape token 'x' does not match ` or \\")
    }

    @Test func directiveAfterBlankLineIsAComment() throws {
        let file = try Dockerfile(parsing: "\n# escape=`\nFROM a\nRUN a `\n")
        #expect(file.escape == "\\")
        #expect(file.stages[0].instructions[0].arguments == "a `")
    }

    @Test func directiveAfterOtherCommentIsAComment() throws {
        let file = try Dockerfile(parsing: "# a comment\n# escape=`\nFROM a\n")
        #expect(file.escape == "\\")
    }

    @Test func unknownDirectiveEndsDirectives() throws {
        let file = try Dockerfile(parsing: "# foo=bar\n# escape=`\n# syntax=x\nFROM a\n")
        #expect(file.escape == "\\")
        #expect(file.syntax == nil)
    }

    @Test func directiveAfterInstructionIsAComment() throws {
        let file = try Dockerfile(parsing: "FROM a\n# escape=`\n# syntax=x\nRUN b `\n")
        #expect(file.escape == "\\")
        #expect(file.syntax == nil)
        #expect(file.stages[0].instructions.map(\.arguments) == ["b `"])
    }

    @Test func directiveWithoutValueEndsDirectives() throws {
        let file = try Dockerfile(parsing: "# syntax=\n# escape=`\nFROM a\n")
        #expect(file.syntax == nil)
        #expect(file.escape == "\\")
    }

    @Test func repeatedDirectiveAfterDirectivesEndedIsIgnored() throws {
        let file = try Dockerfile(parsing: "# escape=`\nFROM a\n# escape=\\\n")
        #expect(file.escape == "`")
    }
}
