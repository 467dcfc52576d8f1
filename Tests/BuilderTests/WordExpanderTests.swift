import Testing
@testable import Builder

@Suite struct WordExpanderTests {
    let expander = WordExpander()
    let env = ["NAME": "world", "EMPTY": "", "SPACED": "a  b", "PATH_VAR": "/usr/local/lib/file.tar.gz"]

    @Test func plainAndBracedVariables() throws {
        #expect(try expander.expand("hello $NAME and ${NAME}!", env: env) == "hello world and world!")
        #expect(try expander.expand("$NAME_x ${NAME}_x", env: env) == " world_x")
    }

    @Test func unsetVariablesExpandToNothing() throws {
        #expect(try expander.expand("[$UNSET][${UNSET}]", env: env) == "[][]")
    }

    @Test(arguments: [
        ("${NAME:-d}", "world"), ("${UNSET:-d}", "d"), ("${EMPTY:-d}", "d"),
        ("${NAME-d}", "world"), ("${UNSET-d}", "d"), ("${EMPTY-d}", ""),
        ("${NAME:+alt}", "alt"), ("${UNSET:+alt}", ""), ("${EMPTY:+alt}", ""),
        ("${NAME+alt}", "alt"), ("${UNSET+alt}", ""), ("${EMPTY+alt}", "alt"),
        ("${UNSET:-${NAME:-x}}", "world"), ("${UNSET:-\"a b\"}", "a b"),
        ("${NAME:?must be set}", "world"), ("${EMPTY?}", ""),
    ])
    func defaultsAndAlternatives(text: String, expected: String) throws {
        #expect(try expander.expand(text, env: env) == expected)
    }

    @Test func requiredVariablesFailWithDockersMessage() {
        #expect(thrownError { _ = try expander.expand("${UNSET:?need it}", env: env) }
            == .expansion("failed to process \"${UNSET:?need it}\": UNSET: need it"))
        #expect(thrownError { _ = try expander.expand("${UNSET?}", env: env) }
            == .expansion("failed to process \"${UNSET?}\": UNSET: is not allowed to be unset"))
        #expect(thrownError { _ = try expander.expand("x${EMPTY:?}", env: env) }
            == .expansion("failed to process \"x${EMPTY:?}\": EMPTY: is not allowed to be empty"))
    }

    @Test func quotes() throws {
        #expect(try expander.expand("'$NAME' \"$NAME\"", env: env) == "$NAME world")
        #expect(try expander.expand("\"a\\\"b\" \"a\\qb\" \"a\\$NAME\" \"\\\\\"", env: env) == "a\"b a\\qb a$NAME \\")
        #expect(try expander.expand("'it''s'", env: env) == "its")
        #expect(try expander.expand("'\\n'", env: env) == "\\n")
    }

    @Test func escapedDollarAndBackslash() throws {
        #expect(try expander.expand("\\$NAME costs \\$5 \\\\ \\x", env: env) == "$NAME costs $5 \\ x")
    }

    @Test func dollarWithoutName() throws {
        #expect(try expander.expand("a$ $/ 100$", env: env) == "a$ $/ 100$")
        #expect(try expander.expand("$1 $$ $@", env: env) == "  ")
    }

    @Test func backtickEscape() throws {
        let windows = WordExpander(escape: "`")
        #expect(try windows.expand("C:\\Program Files\\app `$NAME $NAME", env: env) == "C:\\Program Files\\app $NAME world")
        #expect(try windows.expand("\"a`\"b\"", env: env) == "a\"b")
    }

    @Test func wordsSplitOnUnquotedWhitespace() throws {
        #expect(try expander.words("  a \"b  c\" d'e f'g  ", env: env) == ["a", "b  c", "de fg"])
        #expect(try expander.words("$SPACED \"$SPACED\" x\\ y", env: env) == ["a", "b", "a  b", "x y"])
        #expect(try expander.words("one \"\" two", env: env) == ["one", "two"])
        #expect(try expander.words("", env: env) == [])
    }

    @Test func expandKeepsWhitespace() throws {
        #expect(try expander.expand("  a   $SPACED  ", env: env) == "  a   a  b  ")
    }

    @Test func prefixAndSuffixRemoval() throws {
        #expect(try expander.expand("${PATH_VAR##*/}", env: env) == "file.tar.gz")
        #expect(try expander.expand("${PATH_VAR#*/}", env: env) == "usr/local/lib/file.tar.gz")
        #expect(try expander.expand("${PATH_VAR%.*}", env: env) == "/usr/local/lib/file.tar")
        #expect(try expander.expand("${PATH_VAR%%.*}", env: env) == "/usr/local/lib/file")
        #expect(try expander.expand("${PATH_VAR%/*}", env: env) == "/usr/local/lib")
        #expect(try expander.expand("${PATH_VAR#nomatch}", env: env) == "/usr/local/lib/file.tar.gz")
        #expect(try expander.expand("${NAME#w?r}", env: env) == "ld")
        #expect(try expander.expand("${UNSET%x}", env: env) == "")
    }

    @Test func replacement() throws {
        #expect(try expander.expand("${NAME/o/0}", env: env) == "w0rld")
        #expect(try expander.expand("${PATH_VAR//\\//:}", env: env) == ":usr:local:lib:file.tar.gz")
        #expect(try expander.expand("${NAME//l*/L}", env: env) == "worL")
        #expect(try expander.expand("${NAME/x/y}", env: env) == "world")
    }

    @Test func malformedSubstitutions() {
        #expect(thrownError { _ = try expander.expand("${}", env: env) } == .expansion("failed to process \"${}\": syntax error: bad substitution"))
        #expect(thrownError { _ = try expander.expand("${:x}", env: env) } == .expansion("failed to process \"${:x}\": syntax error: bad substitution"))
        #expect(thrownError { _ = try expander.expand("a ${NAME", env: env) } == .expansion("failed to process \"a ${NAME\": syntax error: missing '}'"))
        #expect(thrownError { _ = try expander.expand("${NAME:-x", env: env) } == .expansion("failed to process \"${NAME:-x\": syntax error: missing '}'"))
        #expect(thrownError { _ = try expander.expand("${NAME!}", env: env) } == .expansion("failed to process \"${NAME!}\": unsupported modifier (!) in substitution"))
        #expect(thrownError { _ = try expander.expand("${NAME:=x}", env: env) } == .expansion("failed to process \"${NAME:=x}\": unsupported modifier (:=) in substitution"))
        #expect(thrownError { _ = try expander.expand("${NAME#\\a}", env: env) }
            == .expansion("failed to process \"${NAME#\\\\a}\": invalid pattern (\\a) in substitution: invalid escape '\\a'"))
    }

    @Test func unterminatedQuotes() {
        #expect(thrownError { _ = try expander.expand("\"abc", env: env) }
            == .expansion("failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote"))
        #expect(thrownError { _ = try expander.words("it's", env: env) }
            == .expansion("failed to process \"it's\": unexpected end of statement while looking for matching single-quote"))
    }

    @Test func trailingEscapeIsDropped() throws {
        #expect(try expander.expand("abc\\", env: env) == "abc")
    }
}
