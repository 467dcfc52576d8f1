import OCI
import Testing
@testable import Engine

@Suite struct SeccompProfileTests {
    static let amd64 = SeccompProfile.Machine(seccompArchitecture: "SCMP_ARCH_X86_64", goArchitecture: "amd64", kernel: (6, 1))
    static let arm64 = SeccompProfile.Machine(seccompArchitecture: "SCMP_ARCH_AARCH64", goArchitecture: "arm64", kernel: (6, 1))

    static func rules(_ profile: RuntimeSpec.Seccomp, naming name: String) -> [RuntimeSpec.SyscallRule] {
        (profile.syscalls ?? []).filter { $0.names.contains(name) }
    }

    @Test func defaultCapabilitiesGetDockersRestrictions() {
        let profile = DefaultSeccompProfile.profile.resolved(capabilities: SecurityDefaults.capabilities, machine: Self.amd64)
        #expect(profile.defaultAction == "SCMP_ACT_ERRNO")
        #expect(profile.defaultErrnoRet == 1)
        #expect(profile.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        // clone only without namespace flags; clone3 answers ENOSYS.
        let clone = Self.rules(profile, naming: "clone")
        #expect(clone.count == 1)
        #expect(clone.first?.args == [.init(index: 0, value: 0x7E02_0000, op: "SCMP_CMP_MASKED_EQ")])
        #expect(Self.rules(profile, naming: "clone3").map(\.errnoRet) == [38])
        for refused in ["unshare", "setns", "mount", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
                        "userfaultfd", "io_uring_setup", "io_uring_enter", "kexec_load", "open_by_handle_at", "ptrace_never"] {
            #expect(Self.rules(profile, naming: refused).isEmpty, "\(refused) must not be allowed")
        }
        #expect(!Self.rules(profile, naming: "ptrace").isEmpty)
        #expect(!Self.rules(profile, naming: "chroot").isEmpty)
        #expect(!Self.rules(profile, naming: "arch_prctl").isEmpty)
        #expect(Self.rules(profile, naming: "personality").count == 5)
    }

    @Test func capAddSysAdminAllowsNamespacesAsDockerDoes() {
        let caps = SecurityDefaults.capabilities + ["CAP_SYS_ADMIN"]
        let profile = DefaultSeccompProfile.profile.resolved(capabilities: caps, machine: Self.amd64)
        let clone = Self.rules(profile, naming: "clone")
        #expect(clone.count == 1)
        #expect(clone.first?.args == nil)
        #expect(Self.rules(profile, naming: "clone3").map(\.action) == ["SCMP_ACT_ALLOW"])
        #expect(!Self.rules(profile, naming: "unshare").isEmpty)
        #expect(!Self.rules(profile, naming: "mount").isEmpty)
        #expect(Self.rules(profile, naming: "keyctl").isEmpty)
    }

    @Test func dropAllLosesCapabilityGatedCalls() {
        let profile = DefaultSeccompProfile.profile.resolved(capabilities: [], machine: Self.amd64)
        #expect(Self.rules(profile, naming: "chroot").isEmpty)
        #expect(!Self.rules(profile, naming: "read").isEmpty)
    }

    @Test func architectureRulesFollowTheMachine() {
        let profile = DefaultSeccompProfile.profile.resolved(capabilities: [], machine: Self.arm64)
        #expect(profile.architectures == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
        #expect(Self.rules(profile, naming: "arch_prctl").isEmpty)
        #expect(!Self.rules(profile, naming: "set_tls").isEmpty)
    }

    @Test func minimumKernelIncludesAndExcludes() throws {
        let text = """
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
              {"names": ["new_call"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.5"}},
              {"name": "old_call", "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "6.0"}}]}
            """
        let profile = try SeccompProfile.decode(text).resolved(capabilities: [], machine: Self.amd64)
        #expect(profile.syscalls?.isEmpty == true)
        let newer = SeccompProfile.Machine(seccompArchitecture: "SCMP_ARCH_X86_64", goArchitecture: "amd64", kernel: (6, 18))
        #expect(try SeccompProfile.decode(text).resolved(capabilities: [], machine: newer).syscalls?.map(\.names) == [["new_call"]])
        let older = SeccompProfile.Machine(seccompArchitecture: "SCMP_ARCH_X86_64", goArchitecture: "amd64", kernel: (5, 10))
        #expect(try SeccompProfile.decode(text).resolved(capabilities: [], machine: older).syscalls?.map(\.names) == [["old_call"]])
    }

    @Test func malformedProfilesAreRefusedWithTheReason() {
        for text in ["", "{", "[]", #"{"syscalls": []}"#,
                     #"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
                     #"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}"#,
                     #"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}"#] {
            #expect(throws: EngineError.self, "\(text)") { try SeccompProfile.decode(text) }
        }
    }

    @Test func securityOptionsAreParsedAsMobyDoes() throws {
        #expect(try SecurityOptions(["no-new-privileges"]).noNewPrivileges)
        #expect(try SecurityOptions(["no-new-privileges:true"]).noNewPrivileges)
        #expect(try !SecurityOptions(["no-new-privileges=false"]).noNewPrivileges)
        #expect(try SecurityOptions(["seccomp=unconfined"]).seccomp == .unconfined)
        #expect(try SecurityOptions(["seccomp:unconfined"]).seccomp == .unconfined)
        #expect(try SecurityOptions(["label=disable", "apparmor=unconfined"]).seccomp == .builtin)
        #expect(try SecurityOptions(["systempaths=unconfined"]).unmaskedSystemPaths)
        for bad in ["bogus", "seccomp", "no-new-privileges=maybe", "seccomp={", "systempaths=x"] {
            #expect(throws: EngineError.self, "\(bad)") { try SecurityOptions([bad]) }
        }
        let options = try SecurityOptions([])
        #expect(options.seccompProfile(capabilities: [], privileged: true) == nil)
        #expect(options.seccompProfile(capabilities: [], privileged: false) != nil)
    }
}
