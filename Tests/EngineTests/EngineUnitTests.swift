import BerthSystem
import OCI
import Testing
@testable import Engine

@Suite struct ConfigChangesTests {
    @Test func jsonAndShellForms() throws {
        let d = try ConfigChanges.apply(["CMD [\"echo\", \"hi\"]", "ENTRYPOINT /bin/run me", "WORKDIR /w", "USER nobody"], to: ContainerDefaults())
        #expect(d.Cmd == ["echo", "hi"])
        #expect(d.Entrypoint == ["/bin/sh", "-c", "/bin/run me"])
        #expect(d.WorkingDir == "/w")
        #expect(d.User == "nobody")
    }

    @Test func envReplacesExistingKeysAndAcceptsBothSyntaxes() throws {
        let d = try ConfigChanges.apply(["ENV A=1 B=\"two words\"", "ENV A 3"], to: ContainerDefaults(Env: ["A=0", "C=4"]))
        // In place, as docker's ENV replaces a variable that is already set.
        #expect(d.Env == ["A=3", "C=4", "B=two words"])
    }

    @Test func unknownInstructionIsNamed() {
        #expect(throws: EngineError.invalidParameter("RUN is not a valid change command")) {
            try ConfigChanges.apply(["RUN rm -rf /"], to: ContainerDefaults())
        }
    }

    @Test func envWithoutValueIsRefused() {
        #expect(throws: EngineError.self) { try ConfigChanges.apply(["ENV A=1 B"], to: ContainerDefaults()) }
    }
}

@Suite struct SignalsTests {
    @Test(arguments: [("HUP", 1), ("SIGTERM", 15), ("kill", 9), ("9", 9), ("RTMIN+1", 35)])
    func namesAndNumbers(_ name: String, _ number: Int32) throws {
        #expect(try Signals.number(name) == number)
    }

    @Test(arguments: ["NOPE", "0", "65", ""])
    func invalidSignalsAreRefused(_ name: String) {
        #expect(throws: EngineError.self) { try Signals.number(name) }
    }
}

@Suite struct CapabilityTests {
    @Test func defaultsAreDockers14() throws {
        let caps = try SecurityDefaults.capabilities(adding: [], dropping: [], privileged: false)
        #expect(caps.count == 14)
        #expect(!caps.contains("CAP_SYS_ADMIN"))
    }

    @Test func dropAllThenAdd() throws {
        #expect(try SecurityDefaults.capabilities(adding: ["net_admin"], dropping: ["ALL"], privileged: false) == ["CAP_NET_ADMIN"])
    }

    @Test func unknownCapabilityIsRefused() {
        #expect(throws: EngineError.invalidParameter("invalid capability: FLY")) {
            try SecurityDefaults.capabilities(adding: ["FLY"], dropping: [], privileged: false)
        }
    }
}

@Suite struct ContainerNameTests {
    @Test(arguments: ["web", "/web", "a.b-c_d", "x1"])
    func validNames(_ name: String) throws {
        #expect(try ContainerNames.validate(name) == (name.hasPrefix("/") ? String(name.dropFirst()) : name))
    }

    @Test(arguments: ["a", "-x", "a/b", "with space", ""])
    func invalidNames(_ name: String) {
        #expect(throws: EngineError.self) { try ContainerNames.validate(name) }
    }
}

@Suite struct MonitorErrorTests {
    @Test func runtimeMessagesMapToDockerExitClasses() {
        #expect(MonitorLauncher.classify("exec: \"nope\": executable file not found in $PATH") == .commandNotFound("nope"))
        #expect(MonitorLauncher.classify("exec: \"/etc/passwd\": permission denied") == .commandNotExecutable("/etc/passwd"))
        #expect(MonitorLauncher.classify(#"level=error msg="runc create failed: exec: \"nope\": executable file not found in $PATH""#) == .commandNotFound("nope"))
        if case .failure = MonitorLauncher.classify("cgroup went away") {} else { Issue.record("expected a plain failure") }
    }
}

@Suite struct ResolvConfTests {
    @Test func exitStatusFromWaitStatus() {
        #expect(WaitStatus.exitCode(3 << 8) == 3)
        #expect(WaitStatus.exitCode(9) == 137)
    }
}
