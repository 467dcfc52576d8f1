import BerthSystem
import Glibc
import OCI
import Testing
@testable import Runtime

@Suite struct SeccompCompilerTests {
    static let profile = RuntimeSpec.Seccomp(
        defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [.init(names: ["read", "write", "no_such_call"], action: "SCMP_ACT_ALLOW"),
                   .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 8, op: "SCMP_CMP_EQ")])])

    static func scratch() -> String {
        var template = Array("/tmp/berth-seccomp-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    @Test func compilesOnceAndReadsTheFilterBack() throws {
        let directory = Self.scratch()
        defer { try? FileSystem.removeTree(directory) }
        let compiler = SeccompCompiler(cacheDirectory: directory + "/cache")
        let first = try #require(try compiler.filter(for: Self.profile))
        #expect(first.program.count % 8 == 0 && first.program.count > 8)
        let entries = FileSystem.listDirectory(directory + "/cache")
        #expect(entries.count == 1)
        let second = try #require(try compiler.filter(for: Self.profile))
        #expect(second.program == first.program)
        #expect(try compiler.filter(for: nil) == nil)
    }

    @Test func anEntryForAnotherProfileUnderTheSameNameIsNotUsed() throws {
        let directory = Self.scratch()
        defer { try? FileSystem.removeTree(directory) }
        let compiler = SeccompCompiler(cacheDirectory: directory)
        let filter = try #require(try compiler.filter(for: Self.profile))
        var other = Self.profile
        other.defaultAction = "SCMP_ACT_ALLOW"
        // Plant this profile's entry under the other profile's name: its key does not match.
        let name = directory + "/" + SeccompCompiler.hexHash(SeccompCompiler.canonicalKey(Self.profile)) + ".bpf"
        let planted = directory + "/" + SeccompCompiler.hexHash(SeccompCompiler.canonicalKey(other)) + ".bpf"
        #expect(rename(name, planted) == 0)
        let compiled = try #require(try compiler.filter(for: other))
        #expect(compiled.program != filter.program)
    }

    @Test func keysDifferWhereProfilesDo() {
        var other = Self.profile
        other.syscalls?[0].names = ["read", "writ", "eno_such_call"]
        #expect(SeccompCompiler.canonicalKey(other) != SeccompCompiler.canonicalKey(Self.profile))
        other = Self.profile
        other.syscalls?[1].args?[0].valueTwo = 0
        #expect(SeccompCompiler.canonicalKey(other) != SeccompCompiler.canonicalKey(Self.profile))
        #expect(SeccompCompiler.canonicalKey(Self.profile) == SeccompCompiler.canonicalKey(Self.profile))
    }

    @Test func unknownActionsAndOperatorsAreErrors() {
        var profile = Self.profile
        profile.defaultAction = "SCMP_ACT_NOPE"
        #expect(throws: RuntimeError.self) { try SeccompCompiler.compile(profile) }
        profile = Self.profile
        profile.syscalls = [.init(names: ["read"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 1, op: "SCMP_CMP_ALMOST")])]
        #expect(throws: RuntimeError.self) { try SeccompCompiler.compile(profile) }
    }
}
