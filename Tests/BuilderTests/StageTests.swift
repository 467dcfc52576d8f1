import Testing
@testable import Builder

@Suite struct StageTests {
    let multiStage = """
    # syntax=docker/dockerfile:1
    ARG GO_VERSION=1.22
    ARG BASE
    FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS Build
    WORKDIR /src
    RUN go build -o /out/app .

    FROM ${BASE:-alpine} as runtime
    COPY --from=build /out/app /usr/bin/app
    CMD ["app"]

    FROM runtime
    LABEL stage=last
    """

    @Test func stagesSplitAtFrom() throws {
        let file = try Dockerfile(parsing: multiStage)
        #expect(file.syntax == "docker/dockerfile:1")
        #expect(file.globalArgs.map(\.arguments) == ["GO_VERSION=1.22", "BASE"])
        #expect(file.stages.count == 3)
        #expect(file.stages.map(\.index) == [0, 1, 2])
        #expect(file.stages.map(\.base) == ["golang:${GO_VERSION}", "${BASE:-alpine}", "runtime"])
        #expect(file.stages.map(\.name) == ["build", "runtime", nil])
        #expect(file.stages.map(\.platform) == ["$BUILDPLATFORM", nil, nil])
        #expect(file.stages.map { $0.instructions.map(\.keyword) } == [["WORKDIR", "RUN"], ["COPY", "CMD"], ["LABEL"]])
        #expect(file.stages[1].from.line == 8)
        #expect(file.stages[1].from.source == "FROM ${BASE:-alpine} as runtime")
    }

    @Test func stageLookupByNameOrIndex() throws {
        let file = try Dockerfile(parsing: multiStage)
        #expect(file.stage(named: "BUILD")?.index == 0)
        #expect(file.stage(named: "runtime")?.index == 1)
        #expect(file.stage(named: "2")?.base == "runtime")
        #expect(file.stage(named: "3") == nil)
        #expect(file.stage(named: "-1") == nil)
        #expect(file.stage(named: "+1") == nil)
        #expect(file.stage(named: "") == nil)
        #expect(file.stage(named: "missing") == nil)
    }

    @Test func badFromForms() {
        let message = "FROM requires either one or three arguments"
        for text in ["FROM", "FROM a b", "FROM a AS", "FROM a AS b c", "FROM a FOR b"] {
            #expect(parseError(text + "\n") == .syntax(file: "Dockerfile", line: 1, message: message))
        }
    }

    @Test func stageNamesMustBeValid() throws {
        #expect(syntaxMessage("FROM a AS 1st\n") == "invalid name for build stage: \"1st\", name can't start with a number or contain symbols")
        #expect(syntaxMessage("FROM a AS my$stage\n") == "invalid name for build stage: \"my$stage\", name can't start with a number or contain symbols")
        let file = try Dockerfile(parsing: "FROM a AS my-stage_1.0\n")
        #expect(file.stages[0].name == "my-stage_1.0")
    }

    @Test func stageNamesMustBeUnique() {
        let error = parseError("FROM a AS one\nFROM b AS two\nFROM c AS ONE\n")
        #expect(error == .syntax(file: "Dockerfile", line: 3, message: "duplicate stage name \"one\": each AS name must be unique"))
    }

    @Test func onlyArgMayPrecedeFrom() {
        let error = parseError("ARG X=1\n# comment\nENV A=b\nFROM alpine\n")
        #expect(error == .syntax(file: "Dockerfile", line: 3, message: "no build stage in current context: only ARG may come before the first FROM"))
        #expect(parseError("RUN echo\n") == .syntax(file: "Dockerfile", line: 1, message: "no build stage in current context: only ARG may come before the first FROM"))
    }

    @Test func fileWithoutFromHasNoStages() {
        #expect(parseError("ARG A\nARG B=2\n") == .noStages(file: "Dockerfile"))
    }

    @Test func argAfterFromBelongsToTheStage() throws {
        let file = try Dockerfile(parsing: "ARG A\nFROM x\nARG B\n")
        #expect(file.globalArgs.count == 1)
        #expect(file.stages[0].instructions.map(\.arguments) == ["B"])
    }
}
