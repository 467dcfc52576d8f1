import Testing
@testable import Builder

@Suite struct FlagTests {
    @Test func leadingFlagsAreSplitOff() throws {
        let instruction = try #require(try onlyInstruction("COPY --chown=app:app --link --chmod=0644 src/ /app/\n"))
        #expect(instruction.flags == [Flag(name: "chown", value: "app:app"), Flag(name: "link", value: nil), Flag(name: "chmod", value: "0644")])
        #expect(instruction.arguments == "src/ /app/")
        #expect(instruction.flag("chown") == "app:app")
        #expect(instruction.flag("link") == "")
        #expect(instruction.flag("from") == nil)
        #expect(instruction.booleanFlag("link"))
        #expect(!instruction.booleanFlag("parents"))
        #expect(instruction.source == "COPY --chown=app:app --link --chmod=0644 src/ /app/")
    }

    @Test func quotedFlagValuesLoseTheirQuotes() throws {
        let instruction = try #require(try onlyInstruction("RUN --mount=\"type=cache,target=/root/.cache pip\" pip install x\n"))
        #expect(instruction.flags == [Flag(name: "mount", value: "type=cache,target=/root/.cache pip")])
        #expect(instruction.arguments == "pip install x")
    }

    @Test func repeatedMountsAreAllKept() throws {
        let instruction = try #require(try onlyInstruction("RUN --mount=type=cache,target=/a --network=none --mount=type=secret,id=b make\n"))
        #expect(instruction.flagValues("mount") == ["type=cache,target=/a", "type=secret,id=b"])
        #expect(instruction.flag("mount") == "type=secret,id=b")
        #expect(instruction.flag("network") == "none")
        #expect(instruction.arguments == "make")
    }

    @Test func flagsAreOnlyReadAtTheStart() throws {
        let instruction = try #require(try onlyInstruction("RUN echo --mount=x\n"))
        #expect(instruction.flags.isEmpty)
        #expect(instruction.arguments == "echo --mount=x")
    }

    @Test func doubleDashEndsTheFlags() throws {
        let instruction = try #require(try onlyInstruction("RUN --network=host -- --version\n"))
        #expect(instruction.flags == [Flag(name: "network", value: "host")])
        #expect(instruction.arguments == "--version")
    }

    @Test func unknownFlagIsAnErrorWithAHint() {
        let error = parseError("FROM a\nCOPY --chmown=1 a b\n")
        #expect(error == .syntax(file: "Dockerfile", line: 2, message: "unknown flag: chmown (did you mean chown?)"))
    }

    @Test func instructionsWithoutFlagsRejectThem() {
        #expect(syntaxMessage("FROM a\nENV --x=1 a=b\n") == "unknown flag: x")
        #expect(syntaxMessage("FROM a\nONBUILD --y RUN echo\n") == "unknown flag: y")
        #expect(syntaxMessage("FROM a\nCMD --help\n") == "unknown flag: help")
    }

    @Test func flagValueRules() {
        #expect(syntaxMessage("FROM a\nCOPY --from a b\n") == "missing a value on flag: from")
        #expect(syntaxMessage("FROM a\nCOPY --link=maybe a b\n") == "expecting boolean value for flag link, not: maybe")
        #expect(syntaxMessage("FROM a\nCOPY --link= a b\n") == "missing a value on flag: link")
        #expect(syntaxMessage("FROM a\nCOPY --chown=a --chown=b x y\n") == "duplicate flag specified: chown")
        #expect(syntaxMessage("FROM a\nCOPY --link=FALSE x y\n") == nil)
    }

    @Test func fromTakesPlatformOnly() throws {
        let file = try Dockerfile(parsing: "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n")
        #expect(file.stages[0].platform == "$BUILDPLATFORM")
        #expect(file.stages[0].base == "golang:1.22")
        #expect(syntaxMessage("FROM --pull=always alpine\n") == "unknown flag: pull")
    }
}
