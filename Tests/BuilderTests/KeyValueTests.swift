import Testing
@testable import Builder

@Suite struct KeyValueTests {
    let expander = WordExpander()

    func pairs(_ line: String, env: [String: String] = [:]) throws -> [String] {
        let instruction = try #require(try onlyInstruction(line + "\n"))
        return try instruction.keyValuePairs(env: env, expander: expander).map { "\($0.key)=\($0.value)" }
    }

    @Test func envPairsWithQuotes() throws {
        #expect(try pairs("ENV a=1 b=\"two words\" c='$x' d=$x e=\"$x\"", env: ["x": "X"]) == ["a=1", "b=two words", "c=$x", "d=X", "e=X"])
    }

    @Test func envLegacyFormTakesTheRestOfTheLine() throws {
        #expect(try pairs("ENV PATH /usr/local/bin:$PATH", env: ["PATH": "/bin"]) == ["PATH=/usr/local/bin:/bin"])
        #expect(try pairs("ENV greeting hello   \"big\"   world") == ["greeting=hello   big   world"])
    }

    @Test func everyPairSeesTheSameEnvironment() throws {
        #expect(try pairs("ENV a=new b=$a", env: ["a": "old"]) == ["a=new", "b=old"])
    }

    @Test func escapedDollarStaysLiteral() throws {
        #expect(try pairs("ENV a=\\$HOME b=\"\\$HOME\"", env: ["HOME": "/root"]) == ["a=$HOME", "b=$HOME"])
    }

    @Test func envAcrossContinuationLines() throws {
        #expect(try pairs("ENV a=1 \\\n    b=2 \\\n    c=3") == ["a=1", "b=2", "c=3"])
    }

    @Test func envSyntaxErrorsAtParseTime() {
        #expect(parseError("FROM a\nENV onlykey\n") == .syntax(file: "Dockerfile", line: 2, message: "ENV must have two arguments"))
        #expect(syntaxMessage("FROM a\nENV a=1 b\n") == "Syntax error - can't find = in \"b\". Must be of the form: name=value")
        #expect(syntaxMessage("FROM a\nENV =x\n") == "ENV names can not be blank")
        #expect(syntaxMessage("FROM a\nLABEL =x\n") == "LABEL names can not be blank")
        #expect(syntaxMessage("FROM a\nLABEL k\n") == "LABEL must have two arguments")
    }

    @Test func labelKeysMayBeQuoted() throws {
        #expect(try pairs("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 'multi word'=yes")
            == ["com.example.vendor=ACME Inc", "version=1.0", "multi word=yes"])
    }

    @Test func expansionErrorsPropagate() throws {
        let instruction = try #require(try onlyInstruction("ENV a=${b:?required}\n"))
        #expect(thrownError { _ = try instruction.keyValuePairs(env: [:], expander: expander) }
            == .expansion("failed to process \"${b:?required}\": b: required"))
        #expect(try pairs("ENV a=${b:?required}", env: ["b": "set"]) == ["a=set"])
    }

    @Test func argDeclarations() throws {
        let instruction = try #require(try onlyInstruction("ARG a b=2 c=\"x y\" d=$v e=\n"))
        let declarations = try instruction.argDeclarations(env: ["v": "V"], expander: expander)
        #expect(declarations.map(\.name) == ["a", "b", "c", "d", "e"])
        #expect(declarations.map(\.defaultValue) == [nil, "2", "x y", "V", ""])
    }

    @Test func argNamesMustNotBeBlank() {
        #expect(syntaxMessage("ARG =x\nFROM a\n") == "ARG names can not be blank")
    }

    @Test func accessorErrorsNameTheInstructionLine() throws {
        let empty = Instruction(keyword: "ENV", flags: [], arguments: "", heredocs: [], line: 9, source: "ENV", json: nil, file: "Containerfile")
        #expect(thrownError { _ = try empty.keyValuePairs(env: [:], expander: expander) }
            == .syntax(file: "Containerfile", line: 9, message: "ENV requires at least one argument"))
    }
}
