import Testing
@testable import Builder

@Suite struct HealthcheckTests {
    @Test func shellFormWithFlags() throws {
        let instruction = try #require(try onlyInstruction("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --retries=3 CMD curl -f http://localhost/ || exit 1\n"))
        let check = try instruction.healthcheck()
        #expect(check.test == ["CMD-SHELL", "curl -f http://localhost/ || exit 1"])
        #expect(check.interval == .seconds(30))
        #expect(check.timeout == .seconds(90))
        #expect(check.startPeriod == .milliseconds(1500))
        #expect(check.startInterval == .zero)
        #expect(check.retries == 3)
    }

    @Test func execForm() throws {
        let instruction = try #require(try onlyInstruction("HEALTHCHECK cmd [\"/bin/check\", \"--quick\"]\n"))
        #expect(try instruction.healthcheck().test == ["CMD", "/bin/check", "--quick"])
    }

    @Test func none() throws {
        let instruction = try #require(try onlyInstruction("HEALTHCHECK NONE\n"))
        #expect(try instruction.healthcheck() == Healthcheck(test: ["NONE"]))
        #expect(syntaxMessage("FROM a\nHEALTHCHECK NONE x\n") == "HEALTHCHECK NONE takes no arguments")
    }

    @Test func badHealthchecksFailAtParseTime() {
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --interval=abc CMD true\n") == "time: invalid duration \"abc\"")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --interval=5 CMD true\n") == "time: missing unit in duration \"5\"")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --timeout=5d CMD true\n") == "time: unknown unit \"d\" in duration \"5d\"")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --interval=10us CMD true\n") == "Interval \"interval\" cannot be less than 1ms")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --retries=-1 CMD true\n") == "--retries cannot be negative (-1)")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --retries=x CMD true\n") == "strconv.ParseInt: parsing \"x\": invalid syntax")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK CMD\n") == "Missing command after HEALTHCHECK CMD")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK RUN true\n") == "Unknown type \"RUN\" in HEALTHCHECK (try CMD)")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK --intreval=5s CMD true\n") == "unknown flag: intreval (did you mean interval?)")
        #expect(syntaxMessage("FROM a\nHEALTHCHECK CMD [1]\n") == "when using JSON array syntax, arrays must be comprised of strings only")
    }

    @Test func goDurations() throws {
        #expect(try GoDuration.parse("1h2m3.5s") == .seconds(3723) + .milliseconds(500))
        #expect(try GoDuration.parse("-1.5m") == .seconds(-90))
        #expect(try GoDuration.parse("0") == .zero)
        #expect(try GoDuration.parse("300ms") == .milliseconds(300))
        #expect(try GoDuration.parse("2\u{00B5}s") == .microseconds(2))
        #expect(try GoDuration.parse(".5s") == .milliseconds(500))
        #expect((try? GoDuration.parse("99999999999h")) == nil)
        #expect((try? GoDuration.parse("")) == nil)
        #expect((try? GoDuration.parse(".s")) == nil)
    }
}
