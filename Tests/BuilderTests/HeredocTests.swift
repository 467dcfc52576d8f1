import Testing
@testable import Builder

@Suite struct HeredocTests {
    @Test func runHeredoc() throws {
        let file = try Dockerfile(parsing: "FROM a\nRUN <<EOF\necho hi\n  # kept\nFROM not-an-instruction\nEOF\nCMD x\n")
        let instructions = file.stages[0].instructions
        #expect(instructions.count == 2)
        #expect(instructions[0].arguments == "<<EOF")
        #expect(instructions[0].heredocs == [Heredoc(name: "EOF", content: "echo hi\n  # kept\nFROM not-an-instruction\n", expands: true, stripsTabs: false)])
        #expect(instructions[1].line == 7)
    }

    @Test func dashStripsLeadingTabs() throws {
        let instruction = try #require(try onlyInstruction("RUN cat <<-END\n\t\tindented\n\tline  \n  spaces stay\n\tEND\n"))
        #expect(instruction.heredocs == [Heredoc(name: "END", content: "indented\nline  \n  spaces stay\n", expands: true, stripsTabs: true)])
    }

    @Test func tabsBeforeDelimiterNeedTheDash() {
        #expect(parseError("FROM a\nRUN cat <<END\nx\n\tEND\n")
            == .syntax(file: "Dockerfile", line: 2, message: "unterminated heredoc: the file ends before a line \"END\" closes it"))
    }

    @Test func quotedDelimiterDoesNotExpand() throws {
        let instructions = try stageInstructions("RUN <<'EOF'\n$HOME\nEOF\nRUN <<\"EOT\"\n$HOME\nEOT\nRUN <<E\"N\"D\nx\nEND\n")
        #expect(instructions.map { $0.heredocs.map(\.name) } == [["EOF"], ["EOT"], ["END"]])
        #expect(instructions.map { $0.heredocs.map(\.expands) } == [[false], [false], [false]])
        #expect(instructions[0].heredocs[0].content == "$HOME\n")
    }

    @Test func severalHeredocsOnOneLine() throws {
        let instruction = try #require(try onlyInstruction("COPY <<FILE1 <<-FILE2 /dest/\none\nFILE1\n\ttwo\n\tFILE2\n"))
        #expect(instruction.heredocs == [
            Heredoc(name: "FILE1", content: "one\n", expands: true, stripsTabs: false),
            Heredoc(name: "FILE2", content: "two\n", expands: true, stripsTabs: true),
        ])
        let paths = try instruction.copyPaths(env: [:], expander: WordExpander())
        #expect(paths.sources == ["<<FILE1", "<<-FILE2"])
        #expect(paths.destination == "/dest/")
        #expect(instruction.heredoc(for: "<<-FILE2")?.content == "two\n")
        #expect(instruction.heredoc(for: "<<NOPE") == nil)
        #expect(instruction.heredoc(for: "FILE1") == nil)
    }

    @Test func heredocWithRedirectionAndFileDescriptor() throws {
        let instructions = try stageInstructions("RUN python3 <<EOF > /out\nprint(1)\nEOF\nRUN 3<<X cat /dev/fd/3\ny\nX\n")
        #expect(instructions[0].arguments == "python3 <<EOF > /out")
        #expect(instructions[0].heredocs.map(\.content) == ["print(1)\n"])
        #expect(instructions[1].heredocs.map(\.name) == ["X"])
    }

    @Test func unterminatedHeredocReportsTheInstructionLine() {
        let error = parseError("FROM a\n\nRUN <<EOF\necho never ends\nEOF \n")
        #expect(error == .syntax(file: "Dockerfile", line: 3, message: "unterminated heredoc: the file ends before a line \"EOF\" closes it"))
    }

    @Test func secondOfTwoHeredocsUnterminated() {
        let error = parseError("FROM a\nRUN <<ONE <<TWO\n1\nONE\n2\n")
        #expect(error == .syntax(file: "Dockerfile", line: 2, message: "unterminated heredoc: the file ends before a line \"TWO\" closes it"))
    }

    @Test func heredocsOnlyForRunCopyAndAddInShellForm() throws {
        #expect(parseError("FROM a\nCMD cat <<EOF\nEOF\n") == .unknownInstruction(file: "Dockerfile", line: 3, keyword: "EOF"))
        let instructions = try stageInstructions("RUN [\"cat\", \"<<EOF\"]\nRUN echo \"<<EOF\" '<<X' \\<<Y\nRUN echo a << b\n")
        #expect(instructions.count == 3)
        #expect(instructions.allSatisfy { $0.heredocs.isEmpty })
    }

    @Test func linesAfterHeredocsAreNumberedRight() {
        let text = "FROM a\nCOPY <<A <<B /x/\na1\na2\nA\nb1\nB\nBAD instruction\n"
        #expect(parseError(text) == .unknownInstruction(file: "Dockerfile", line: 8, keyword: "BAD"))
    }

    @Test func crlfHeredocBodiesEndInNewline() throws {
        let instruction = try #require(try onlyInstruction("RUN <<EOF\r\nline one\r\nEOF\r\n"))
        #expect(instruction.heredocs.map(\.content) == ["line one\n"])
    }

    @Test func heredocAsDestinationIsAnError() {
        #expect(syntaxMessage("FROM a\nCOPY src <<EOF\nx\nEOF\n") == "COPY cannot accept a heredoc as a destination")
    }

    @Test func onbuildTriggerWithHeredoc() throws {
        let instruction = try #require(try onlyInstruction("ONBUILD RUN <<EOF\necho built\nEOF\n"))
        #expect(instruction.arguments == "RUN <<EOF")
        #expect(instruction.heredocs.map(\.content) == ["echo built\n"])
        #expect(instruction.triggerText == "RUN <<EOF\necho built\nEOF")
        let trigger = try Instruction(parsingTrigger: instruction.triggerText, line: 1)
        #expect(trigger.heredocs == instruction.heredocs)
    }

    @Test func heredocExpansionKeepsQuotes() throws {
        let expander = WordExpander()
        let body = "echo '$NAME' \"${NAME}\" \\$NAME\n"
        #expect(try expander.expandHeredoc(body, env: ["NAME": "x"]) == "echo 'x' \"x\" $NAME\n")
    }
}
