import Testing
@testable import Builder

@Suite struct LineTests {
    @Test func continuationLinesAreJoined() throws {
        let instruction = try onlyInstruction("RUN echo a \\\n    && echo b\n")
        #expect(instruction?.arguments == "echo a     && echo b")
        #expect(instruction?.source == "RUN echo a     && echo b")
        #expect(instruction?.line == 2)
    }

    @Test func whitespaceAfterTheEscapeStillContinues() throws {
        let instruction = try onlyInstruction("RUN a \\ \t \nb\n")
        #expect(instruction?.arguments == "a b")
    }

    @Test func commentAndEmptyLinesInsideAContinuationAreDropped() throws {
        let text = "RUN apt-get update && \\\n# install curl\n    \n\n  apt-get install -y curl\n"
        let instruction = try onlyInstruction(text)
        #expect(instruction?.arguments == "apt-get update &&   apt-get install -y curl")
    }

    @Test func indentedCommentInsideAContinuationIsDropped() throws {
        let instruction = try onlyInstruction("RUN a \\\n    # note \\\n  b\n")
        #expect(instruction?.arguments == "a   b")
    }

    @Test func escapedEscapeAtEndOfLineDoesNotContinue() throws {
        let instructions = try stageInstructions("RUN echo a\\\\\nRUN echo b\n")
        #expect(instructions.map(\.arguments) == ["echo a\\\\", "echo b"])
    }

    @Test func escapeAloneOnALineContinues() throws {
        let instruction = try onlyInstruction("RUN a \\\n\\\nb\n")
        #expect(instruction?.arguments == "a b")
    }

    @Test func continuationAtEndOfFileEndsTheInstruction() throws {
        let instruction = try onlyInstruction("RUN echo done \\")
        #expect(instruction?.arguments == "echo done")
    }

    @Test func unknownInstructionLineCountsContinuationsAndComments() {
        let text = """
        FROM alpine
        # comment
        RUN echo a \\
          # inner comment
          echo b

        FOO bar
        RUN echo c
        """
        #expect(parseError(text) == .unknownInstruction(file: "Dockerfile", line: 7, keyword: "FOO"))
    }

    @Test func errorNamesTheFileAndLine() {
        let error = parseError("FROM a\n\nRUNN echo\n", fileName: "build/Dockerfile.dev")
        #expect(error == .unknownInstruction(file: "build/Dockerfile.dev", line: 3, keyword: "RUNN"))
        #expect(error?.description == "dockerfile parse error on line 3 of build/Dockerfile.dev: unknown instruction: RUNN (did you mean RUN?)")
    }

    @Test func instructionLinesAreThoseOfTheirKeyword() throws {
        let text = "# c\n\nFROM a\n\n  RUN x \\\n y\n# c\nCMD z\n"
        let file = try Dockerfile(parsing: text)
        #expect(file.stages[0].from.line == 3)
        #expect(file.stages[0].instructions.map(\.line) == [5, 8])
    }

    @Test func crlfLineEndingsAreTolerated() throws {
        let file = try Dockerfile(parsing: "FROM a\r\nRUN echo \\\r\n b\r\nENV x=1\r\n")
        let instructions = file.stages[0].instructions
        #expect(instructions.map(\.arguments) == ["echo  b", "x=1"])
        #expect(instructions.map(\.line) == [2, 4])
        #expect(file.stages[0].base == "a")
    }

    @Test func byteOrderMarkIsIgnored() throws {
        let file = try Dockerfile(parsing: "\u{FEFF}# escape=`\nFROM a\nRUN x `\n y\n")
        #expect(file.escape == "`")
        #expect(file.stages[0].instructions[0].arguments == "x  y")
    }

    @Test func keywordsAreCaseInsensitive() throws {
        let file = try Dockerfile(parsing: "from alpine AS Build\nRuN echo hi\ncopy a b\n")
        #expect(file.stages[0].name == "build")
        #expect(file.stages[0].instructions.map(\.keyword) == ["RUN", "COPY"])
        #expect(file.stages[0].instructions[0].source == "RuN echo hi")
    }

    @Test func fileOfOnlyCommentsHasNoInstructions() {
        #expect(parseError("# just\n# comments\n\n   \n") == .noInstructions(file: "Dockerfile"))
        #expect(parseError("") == .noInstructions(file: "Dockerfile"))
        #expect(parseError("# syntax=docker/dockerfile:1\n")?.description == "dockerfile parse error in Dockerfile: file with no instructions")
    }

    @Test func leadingWhitespaceBeforeKeywordIsIgnored() throws {
        let instruction = try onlyInstruction("   \t RUN   echo   hi   \n")
        #expect(instruction?.arguments == "echo   hi")
        #expect(instruction?.source == "RUN echo   hi")
    }
}
