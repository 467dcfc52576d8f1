import Testing
@testable import Builder

@Suite struct InstructionTests {
    @Test func jsonExecFormWithEscapes() throws {
        let instruction = try #require(try onlyInstruction(#"CMD ["echo", "a\"b", "tab\there", "caf\u00e9", "\ud83d\ude00", "x\/y"]"# + "\n"))
        #expect(instruction.json == ["echo", "a\"b", "tab\there", "café", "😀", "x/y"])
        #expect(instruction.command == .exec(["echo", "a\"b", "tab\there", "café", "😀", "x/y"]))
    }

    @Test func jsonLookingButInvalidFallsBackToShellForm() throws {
        for text in [#"["echo", 'a']"#, "[echo]", #"["a",]"#, #"["a"] x"#, #"["a" "b"]"#, #"["a\q"]"#] {
            let instruction = try #require(try onlyInstruction("CMD " + text + "\n"))
            #expect(instruction.json == nil)
            #expect(instruction.command == .shell(text))
        }
    }

    @Test func jsonArrayOfNonStringsIsAnError() {
        let message = "when using JSON array syntax, arrays must be comprised of strings only"
        #expect(syntaxMessage("FROM a\nCMD [\"a\", 1]\n") == message)
        #expect(syntaxMessage("FROM a\nRUN [[\"nested\"]]\n") == message)
        #expect(syntaxMessage("FROM a\nENTRYPOINT [{\"a\": [1, {\"b\": null}]}, true]\n") == message)
        #expect(syntaxMessage("FROM a\nCOPY [\"a\", null]\n") == message)
    }

    @Test func emptyJSONArrayIsAnEmptyExecForm() throws {
        let instruction = try #require(try onlyInstruction("ENTRYPOINT []\n"))
        #expect(instruction.json == [])
        #expect(instruction.command == .exec([]))
    }

    @Test func jsonIsOnlyReadForInstructionsWithAnExecOrListForm() throws {
        let instruction = try #require(try onlyInstruction("USER [\"root\"]\n"))
        #expect(instruction.json == nil)
        #expect(instruction.arguments == "[\"root\"]")
    }

    @Test func shellFormCommand() throws {
        let instruction = try #require(try onlyInstruction("RUN  set -e;  make  \n"))
        #expect(instruction.json == nil)
        #expect(instruction.command == .shell("set -e;  make"))
    }

    @Test func sourceKeepsTheKeywordAsWritten() throws {
        let instruction = try #require(try onlyInstruction("run   --network=none   echo hi\n"))
        #expect(instruction.keyword == "RUN")
        #expect(instruction.source == "run --network=none   echo hi")
    }

    @Test(arguments: [
        ("RUN", "RUN requires at least one argument"),
        ("RUN []", "RUN requires at least one argument"),
        ("ENV", "ENV requires at least one argument"),
        ("LABEL", "LABEL requires at least one argument"),
        ("ARG", "ARG requires at least one argument"),
        ("EXPOSE", "EXPOSE requires at least one argument"),
        ("VOLUME", "VOLUME requires at least one argument"),
        ("USER", "USER requires exactly one argument"),
        ("WORKDIR", "WORKDIR requires exactly one argument"),
        ("STOPSIGNAL", "STOPSIGNAL requires exactly one argument"),
        ("MAINTAINER", "MAINTAINER requires exactly one argument"),
        ("ONBUILD", "ONBUILD requires at least one argument"),
        ("SHELL", "SHELL requires at least one argument"),
        ("SHELL []", "SHELL requires at least one argument"),
        ("HEALTHCHECK", "HEALTHCHECK requires at least one argument"),
        ("COPY", "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("ADD onlyone", "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
    ])
    func instructionsThatNeedArguments(text: String, message: String) {
        #expect(parseError("FROM a\n" + text + "\n") == .syntax(file: "Dockerfile", line: 2, message: message))
    }

    @Test func cmdAndEntrypointMayBeEmpty() throws {
        let instructions = try stageInstructions("CMD\nENTRYPOINT\n")
        #expect(instructions.map(\.command) == [.shell(""), .shell("")])
    }

    @Test func shellRequiresJSON() throws {
        #expect(syntaxMessage("FROM a\nSHELL /bin/bash -c\n") == "SHELL requires the arguments to be in JSON form")
        let hinted = syntaxMessage("FROM a\nSHELL [\"c:\\windows\\cmd.exe\", \"/S\"]\n")
        #expect(hinted?.hasPrefix("SHELL requires the arguments to be in JSON form. It looks like") == true)
        let shell = try #require(try onlyInstruction("SHELL [\"powershell\", \"-Command\"]\n"))
        #expect(shell.json == ["powershell", "-Command"])
    }

    @Test func volumeRejectsEmptyPaths() {
        #expect(syntaxMessage("FROM a\nVOLUME [\"/data\", \" \"]\n") == "VOLUME specified can not be an empty string")
    }

    @Test func onbuildKeepsItsTriggerAsArguments() throws {
        let instruction = try #require(try onlyInstruction("ONBUILD   RUN echo hi\n"))
        #expect(instruction.keyword == "ONBUILD")
        #expect(instruction.flags.isEmpty)
        #expect(instruction.arguments == "RUN echo hi")
        #expect(instruction.triggerText == "RUN echo hi")
        let trigger = try Instruction(parsingTrigger: instruction.triggerText, line: 1)
        #expect(trigger.keyword == "RUN")
        #expect(trigger.arguments == "echo hi")
    }

    @Test func onbuildTriggerRules() {
        #expect(syntaxMessage("FROM a\nONBUILD ONBUILD RUN x\n") == "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        #expect(syntaxMessage("FROM a\nONBUILD from b\n") == "FROM isn't allowed as an ONBUILD trigger")
        #expect(syntaxMessage("FROM a\nONBUILD MAINTAINER me\n") == "MAINTAINER isn't allowed as an ONBUILD trigger")
        #expect(parseError("FROM a\nONBUILD FOO bar\n") == .unknownInstruction(file: "Dockerfile", line: 2, keyword: "FOO"))
        #expect(syntaxMessage("FROM a\nONBUILD COPY a\n") == "COPY requires at least two arguments, but only one was provided. Destination could not be determined")
    }

    @Test func singleInstructionParsing() throws {
        let instruction = try Instruction(parsing: "# trigger\nCOPY --from=build /out \\\n  /app\n", line: 10)
        #expect(instruction.keyword == "COPY")
        #expect(instruction.line == 11)
        #expect(instruction.flag("from") == "build")
        #expect(instruction.arguments == "/out   /app")
        let windows = try Instruction(parsing: "WORKDIR C:\\app", line: 1, escape: "`")
        #expect(windows.arguments == "C:\\app")
    }

    @Test func singleInstructionParsingErrors() {
        #expect(thrownError { _ = try Instruction(parsing: "RUN a\nRUN b", line: 1) }
            == .syntax(file: "Dockerfile", line: 2, message: "expected one instruction, found another: RUN b"))
        #expect(thrownError { _ = try Instruction(parsing: "  # only a comment", line: 4) }
            == .syntax(file: "Dockerfile", line: 4, message: "no instruction to parse: the text is empty or only comments"))
        #expect(thrownError { _ = try Instruction(parsing: "BOGUS x", line: 3) } == .unknownInstruction(file: "Dockerfile", line: 3, keyword: "BOGUS"))
        #expect(thrownError { _ = try Instruction(parsing: "RUN x", line: 1, escape: "|") }
            == .syntax(file: "Dockerfile", line: 1, message: "invalid escape token '|' does not match ` or \\"))
        #expect(thrownError { _ = try Instruction(parsingTrigger: "FROM alpine", line: 1) }
            == .syntax(file: "Dockerfile", line: 1, message: "FROM isn't allowed as an ONBUILD trigger"))
    }

    @Test func unknownInstructionKeepsTheKeywordAsWritten() {
        #expect(parseError("FROM a\ncp a b\n") == .unknownInstruction(file: "Dockerfile", line: 2, keyword: "cp"))
        #expect(parseError("FROM a\nENTRYPONT x\n")?.description
            == "dockerfile parse error on line 2 of Dockerfile: unknown instruction: ENTRYPONT (did you mean ENTRYPOINT?)")
        #expect(parseError("FROM a\nXYZZY x\n")?.description == "dockerfile parse error on line 2 of Dockerfile: unknown instruction: XYZZY")
    }

    @Test func argumentWordsOfListForms() throws {
        let instructions = try stageInstructions("EXPOSE 80/tcp  $PORT\nVOLUME [\"/a b\", \"$DIR\"]\n")
        let expander = WordExpander()
        #expect(try instructions[0].argumentWords(env: ["PORT": "443"], expander: expander) == ["80/tcp", "443"])
        #expect(try instructions[1].argumentWords(env: ["DIR": "/data"], expander: expander) == ["/a b", "/data"])
    }
}
