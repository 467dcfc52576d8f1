#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import CBerthSys
import Dispatch
import Glibc

/// Runs helper programs (the OCI runtime, `ps`) to completion and collects their output.
/// Blocking work runs on Dispatch's global queue, never on the Swift concurrency pool.
enum ProcessRunner {
    struct Result: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]

        var stderrText: String { String(decoding: stderr, as: UTF8.self).trimmed }
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `arguments[0]` (an absolute path) with the rest as its arguments.
    static func run(_ arguments: [String]) async throws -> Result {
        try await offload { try runBlocking(arguments) }
    }

    /// Runs `body` on a Dispatch thread and returns its result.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result(catching: body))
            }
        }
    }

    static func runBlocking(_ arguments: [String]) throws -> Result {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard berth_pipe2(&outPipe, O_CLOEXEC) == 0, berth_pipe2(&errPipe, O_CLOEXEC) == 0 else {
            throw EngineError.failure("pipe: \(String(cString: strerror(errno)))")
        }
        let pid = spawn(arguments, stdin: -1, stdout: outPipe[1], stderr: errPipe[1], fd3: -1, newSession: false)
        close(outPipe[1])
        close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard pid > 0 else {
            throw EngineError.failure("cannot run \(arguments[0]): \(String(cString: strerror(-pid)))")
        }
        // Read stderr on another thread so neither pipe can fill up and stall the child.
        let errFD = errPipe[0]
        let group = DispatchGroup()
        nonisolated(unsafe) var errBytes: [UInt8] = []
        DispatchQueue.global().async(group: group) { errBytes = (try? FileSystem.readAll(errFD)) ?? [] }
        let outBytes = (try? FileSystem.readAll(outPipe[0])) ?? []
        group.wait()
        return Result(status: waitForExit(pid), stdout: outBytes, stderr: errBytes)
    }

    /// posix_spawn with explicit stdio; returns the pid or -errno.
    static func spawn(_ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32, fd3: Int32, newSession: Bool) -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { $0.withCString { strdup($0) } } + [nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"].map { $0.withCString { strdup($0) } } + [nil]
        defer { envp.forEach { free($0) } }
        return berth_spawn_session(arguments[0], &argv, &envp, stdin, stdout, stderr, fd3, newSession ? 1 : 0)
    }

    /// waitpid until the child exits; its status as a shell would report it.
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return WaitStatus.exitCode(status)
    }
}
