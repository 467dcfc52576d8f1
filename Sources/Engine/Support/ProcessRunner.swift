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

    /// Runs `arguments` to completion, `input` (if any) written to its standard input.
    static func runBlocking(_ arguments: [String], input: [UInt8]? = nil) throws -> Result {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [-1, -1]
        guard berth_pipe2(&outPipe, O_CLOEXEC) == 0, berth_pipe2(&errPipe, O_CLOEXEC) == 0, input == nil || berth_pipe2(&inPipe, O_CLOEXEC) == 0 else {
            throw EngineError.failure("pipe: \(String(cString: strerror(errno)))")
        }
        let pid = spawn(arguments, stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1], fd3: -1, newSession: false)
        close(outPipe[1])
        close(errPipe[1])
        if inPipe[0] >= 0 { close(inPipe[0]) }
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard pid > 0 else {
            if inPipe[1] >= 0 { close(inPipe[1]) }
            throw EngineError.failure("cannot run \(arguments[0]): \(String(cString: strerror(-pid)))")
        }
        // Feed stdin and read stderr on other threads so no pipe can fill up and stall the child.
        let errFD = errPipe[0]
        let group = DispatchGroup()
        nonisolated(unsafe) var errBytes: [UInt8] = []
        DispatchQueue.global().async(group: group) { errBytes = (try? FileSystem.readAll(errFD)) ?? [] }
        if let input {
            let inFD = inPipe[1]
            DispatchQueue.global().async(group: group) {
                try? FileSystem.writeAll(inFD, input)
                close(inFD)
            }
        }
        let outBytes = (try? FileSystem.readAll(outPipe[0])) ?? []
        group.wait()
        return Result(status: waitForExit(pid), stdout: outBytes, stderr: errBytes)
    }

    /// Runs `arguments` with its stdout and stderr on one pipe, keeping the first `limit`
    /// bytes of output. When it has not finished after `timeoutNanoseconds` it is killed and
    /// nil returned (its output is no longer awaited, even if something it started keeps the
    /// pipe open).
    static func run(_ arguments: [String], timeoutNanoseconds: UInt64, outputLimit limit: Int) async throws -> (status: Int32, output: [UInt8])? {
        try await offload { try runBlocking(arguments, timeoutNanoseconds: timeoutNanoseconds, limit: limit) }
    }

    private static func runBlocking(_ arguments: [String], timeoutNanoseconds: UInt64, limit: Int) throws -> (status: Int32, output: [UInt8])? {
        var pipe: [Int32] = [0, 0]
        guard berth_pipe2(&pipe, O_CLOEXEC) == 0 else { throw EngineError.failure("pipe: \(String(cString: strerror(errno)))") }
        let pid = spawn(arguments, stdin: -1, stdout: pipe[1], stderr: pipe[1], fd3: -1, newSession: false)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard pid > 0 else { throw EngineError.failure("cannot run \(arguments[0]): \(String(cString: strerror(-pid)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Timestamp.now().seconds * 1_000_000_000 + Timestamp.now().nanoseconds + Int64(clamping: timeoutNanoseconds)
        while true {
            let now = Timestamp.now()
            let remaining = deadline - (now.seconds * 1_000_000_000 + now.nanoseconds)
            if remaining <= 0 {
                kill(pid, SIGKILL)
                _ = waitForExit(pid)
                return nil
            }
            var poller = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining / 1_000_000 + 1, 1000)))
            if ready < 0 && errno != EINTR { break }
            guard ready > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if output.count < limit { output += buffer[0..<min(n, limit - output.count)] }
        }
        return (waitForExit(pid), output)
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
