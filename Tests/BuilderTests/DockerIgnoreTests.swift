import Testing
@testable import Builder

@Suite struct DockerIgnoreTests {
    @Test func markdownExceptReadme() {
        let rules = DockerIgnore(parsing: "*.md\n!README.md\n")
        #expect(rules.excludes("CHANGES.md"))
        #expect(!rules.excludes("README.md"))
        #expect(!rules.excludes("docs/guide.md"))
        #expect(!rules.excludes("main.go"))
    }

    @Test func doubleStarMatchesAnyDepth() {
        let rules = DockerIgnore(parsing: "**/*.go\n")
        #expect(rules.excludes("main.go"))
        #expect(rules.excludes("cmd/tool/main.go"))
        #expect(!rules.excludes("main.go.txt"))
        #expect(!rules.excludes("README"))
    }

    @Test func doubleStarInTheMiddle() {
        let rules = DockerIgnore(parsing: "a/**/b\n")
        #expect(rules.excludes("a/b"))
        #expect(rules.excludes("a/x/y/b"))
        #expect(rules.excludes("a/x/b/c"))
        #expect(!rules.excludes("a/xb"))
        #expect(!rules.excludes("b"))
    }

    @Test func trailingDoubleStarMatchesEverythingBelow() {
        let rules = DockerIgnore(parsing: "cache/**\n")
        #expect(rules.excludes("cache/a"))
        #expect(rules.excludes("cache/a/b/c"))
        #expect(!rules.excludes("cachex"))
    }

    @Test func directoryPatternExcludesItsContents() {
        let rules = DockerIgnore(parsing: "node_modules/\n")
        #expect(rules.patterns == ["node_modules"])
        #expect(rules.excludes("node_modules"))
        #expect(rules.excludes("node_modules/left-pad/index.js"))
        #expect(!rules.excludes("node_modules2"))
        #expect(!rules.excludes("src/node_modules"))
        #expect(!rules.mayIncludeBelow("node_modules"))
    }

    @Test func leadingSlashIsDropped() {
        let rules = DockerIgnore(parsing: "/abs\n/\n")
        #expect(rules.patterns == ["abs", "/"])
        #expect(rules.excludes("abs"))
        #expect(rules.excludes("abs/x"))
        #expect(!rules.excludes("x/abs"))
    }

    @Test func exceptionReincludesUnderAnExcludedDirectory() {
        let rules = DockerIgnore(parsing: "build\n!build/keep.txt\n")
        #expect(rules.excludes("build/other.txt"))
        #expect(!rules.excludes("build/keep.txt"))
        #expect(rules.excludes("build"))
        #expect(rules.mayIncludeBelow("build"))
        #expect(rules.excludes("build/sub"))
        #expect(!rules.mayIncludeBelow("build/sub"))
    }

    @Test func wildcardExceptionKeepsTheWalkGoing() {
        let rules = DockerIgnore(parsing: "dist\n!**/*.keep\n")
        #expect(rules.mayIncludeBelow("dist"))
        #expect(!rules.excludes("dist/a/b.keep"))
        #expect(rules.excludes("dist/a/b.txt"))
    }

    @Test func exceptionElsewhereDoesNotKeepTheWalkGoing() {
        let rules = DockerIgnore(parsing: "vendor\n!src/keep\n")
        #expect(!rules.mayIncludeBelow("vendor"))
        #expect(rules.mayIncludeBelow("src"))
        #expect(rules.mayIncludeBelow("."))
    }

    @Test func lastMatchingRuleWins() {
        let excluded = DockerIgnore(parsing: "!a.txt\n*.txt\n")
        #expect(excluded.excludes("a.txt"))
        let included = DockerIgnore(parsing: "*.txt\n!a.txt\n")
        #expect(!included.excludes("a.txt"))
        #expect(included.excludes("b.txt"))
        let again = DockerIgnore(parsing: "*.txt\n!a.txt\na.*\n")
        #expect(again.excludes("a.txt"))
    }

    @Test func commentsBlankLinesAndWhitespace() {
        let rules = DockerIgnore(parsing: "# comment\n\n   \n  foo  \n #bar\n!  baz\r\n")
        #expect(rules.patterns == ["foo", "#bar", "!baz"])
        #expect(rules.excludes("foo"))
        #expect(rules.excludes("#bar"))
        #expect(!rules.excludes("comment"))
    }

    @Test func patternsAreCleaned() {
        let rules = DockerIgnore(parsing: "./foo/../bar//baz/\n")
        #expect(rules.patterns == ["bar/baz"])
        #expect(rules.excludes("bar/baz/x"))
        #expect(rules.excludes("./bar/baz"))
    }

    @Test func singleCharactersClassesAndEscapes() {
        let rules = DockerIgnore(parsing: "file?.txt\n[ab].log\n[^a-c].cfg\nstar\\*\n")
        #expect(rules.excludes("file1.txt"))
        #expect(!rules.excludes("file12.txt"))
        #expect(rules.excludes("a.log"))
        #expect(!rules.excludes("c.log"))
        #expect(rules.excludes("x.cfg"))
        #expect(!rules.excludes("b.cfg"))
        #expect(rules.excludes("star*"))
        #expect(!rules.excludes("starx"))
    }

    @Test func emptyAndEverything() {
        #expect(DockerIgnore(parsing: "# nothing\n\n").isEmpty)
        #expect(!DockerIgnore(parsing: "# nothing\n\n").excludes("anything"))
        let all = DockerIgnore(parsing: "**\n!Dockerfile\n")
        #expect(!all.isEmpty)
        #expect(all.excludes("src/main.swift"))
        #expect(!all.excludes("Dockerfile"))
        #expect(!all.excludes("."))
    }

    @Test func malformedPatternsMatchNothingAndFailValidation() {
        let rules = DockerIgnore(parsing: "[abc\n*.tmp\n!\n")
        #expect(rules.patterns == ["[abc", "*.tmp", "!"])
        #expect(rules.excludes("x.tmp"))
        #expect(!rules.excludes("[abc"))
        #expect(thrownError { try rules.validate() } == .badPattern("[abc"))
        #expect(thrownError { try DockerIgnore(parsing: "!\n").validate() } == .badPattern("!"))
        #expect(thrownError { try DockerIgnore(parsing: "*.o\n").validate() } == nil)
    }
}
