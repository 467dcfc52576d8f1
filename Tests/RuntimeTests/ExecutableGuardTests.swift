import Glibc
import Testing
@testable import Runtime

@Suite struct ExecutableGuardTests {
    @Test func theRuntimesOwnBinaryIsRefusedDirectlyAndAsInterpreter() throws {
        let guardian = try #require(ExecutableGuard())
        #expect(throws: RuntimeError.unsafeExecutable("x")) { try guardian.check("/proc/self/exe", name: "x") }

        let script = "/tmp/berth-guard-\(getpid()).sh"
        defer { unlink(script) }
        let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0o755)
        try #require(fd >= 0)
        let text = Array("#!/proc/self/exe --flag\necho hi\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(throws: RuntimeError.unsafeExecutable("s")) { try guardian.check(script, name: "s") }
        #expect(throws: Never.self) { try guardian.check("/bin/sh", name: "sh") }
    }
}
