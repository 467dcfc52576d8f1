import OCI
import Testing
@testable import Runtime

@Suite struct SignalsTests {
    @Test func namesWithOrWithoutPrefixAndNumbers() throws {
        #expect(try Signals.parse("TERM") == 15)
        #expect(try Signals.parse("SIGKILL") == 9)
        #expect(try Signals.parse("usr1") == 10)
        #expect(try Signals.parse("2") == 2)
    }

    @Test func unknownSignalsAreRejected() {
        #expect(throws: RuntimeError.unknownSignal("NOPE")) { try Signals.parse("NOPE") }
        #expect(throws: RuntimeError.unknownSignal("0")) { try Signals.parse("0") }
    }
}

@Suite struct CapabilityTests {
    @Test func namesBecomeBits() throws {
        let mask = try CapabilitySets.mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
        #expect(mask == 0x2000_0420)
        #expect(try CapabilitySets.mask(["chown"]) == 1)
    }

    @Test func unknownCapabilityIsAnError() {
        #expect(throws: RuntimeError.invalidConfig("unknown capability \"CAP_FLY\"")) {
            try CapabilitySets.mask(["CAP_FLY"])
        }
    }
}

@Suite struct StateTests {
    @Test func idsThatCouldEscapeTheStateDirectoryAreRejected() {
        for id in ["", ".", "..", "a/b", "../x", "a b"] {
            #expect(throws: RuntimeError.invalidID(id)) { try StateStore.validate(id: id) }
        }
        #expect(throws: Never.self) { try StateStore.validate(id: "web-1_a.b+c") }
    }

    @Test func errorsCarryShellExitCodes() {
        #expect(RuntimeError.executableNotFound("x").exitCode == 127)
        #expect(RuntimeError.initFailed("exec: \"x\": executable file not found in $PATH").exitCode == 127)
        #expect(RuntimeError.initFailed("exec: \"/etc\": permission denied").exitCode == 126)
        #expect(RuntimeError.containerNotFound("x").exitCode == 1)
    }

    @Test func namespacePlanSeparatesNewJoinedAndCgroupNamespaces() throws {
        let plan = try NamespacePlan(spec: [
            RuntimeSpec.Namespace(type: "pid"), RuntimeSpec.Namespace(type: "mount"),
            RuntimeSpec.Namespace(type: "network", path: "/var/run/netns/n1"), RuntimeSpec.Namespace(type: "cgroup"),
        ])
        #expect(plan.cloneFlags == NamespaceKind.pid.cloneFlag | NamespaceKind.mount.cloneFlag)
        #expect(plan.unshareCgroup)
        #expect(plan.joins.map(\.path) == ["/var/run/netns/n1"])
        #expect(plan.hasMountNamespace)
        // An unlisted mount namespace is inherited (config-linux.md), not an error.
        let inherited = try NamespacePlan(spec: [RuntimeSpec.Namespace(type: "pid")])
        #expect(!inherited.hasMountNamespace && inherited.cloneFlags == NamespaceKind.pid.cloneFlag)
        #expect(throws: RuntimeError.self) { try NamespacePlan(spec: [RuntimeSpec.Namespace(type: "time-travel")]) }
        let user = try NamespacePlan(spec: [RuntimeSpec.Namespace(type: "mount"), RuntimeSpec.Namespace(type: "user")])
        #expect(user.createsUserNamespace)
        #expect(!plan.createsUserNamespace)
        let joined = try NamespacePlan(spec: [RuntimeSpec.Namespace(type: "mount"), RuntimeSpec.Namespace(type: "user", path: "/proc/1/ns/user")])
        #expect(joined.entersUserNamespace && !joined.createsUserNamespace)
        #expect(joined.joins.isEmpty)
    }
}

@Suite struct SpecValidationTests {
    @Test func hostnameAndSysctlsNeedTheirNamespaces() throws {
        var spec = RuntimeSpec(process: RuntimeSpec.Process(args: ["true"]), hostname: "box", linux: RuntimeSpec.Linux())
        #expect(throws: RuntimeError.self) { try SpecValidation.validate(spec, namespaces: [.mount]) }
        try SpecValidation.validate(spec, namespaces: [.mount, .uts])
        spec.hostname = nil
        spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        #expect(throws: RuntimeError.self) { try SpecValidation.validate(spec, namespaces: [.mount]) }
        try SpecValidation.validate(spec, namespaces: [.mount, .network])
        spec.linux?.sysctl = ["vm.swappiness": "0"]
        #expect(throws: RuntimeError.self) { try SpecValidation.validate(spec, namespaces: NamespaceKind.allCases) }
    }
}
