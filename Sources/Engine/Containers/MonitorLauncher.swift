#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import CBerthSys
import Glibc

/// Starts `berth-monitor` for a container or an exec, detached in its own session, and waits
/// for its verdict on fd 3 (`ok <pid>` or `error <message>`, docs/internals.md §2).
struct MonitorLauncher: Sendable {
    let monitorPath: String

    struct Started: Sendable {
        var monitorPID: pid_t
        var processPID: pid_t
    }

    func launch(arguments: [String], directory: String) async throws -> Started {
        var fds: [Int32] = [0, 0]
        guard berth_pipe2(&fds, O_CLOEXEC) == 0 else { throw EngineError.failure("pipe: \(String(cString: strerror(errno)))") }
        let pid = ProcessRunner.spawn([monitorPath] + arguments, stdin: -1, stdout: -1, stderr: -1, fd3: fds[1], newSession: true)
        close(fds[1])
        let readEnd = fds[0]
        guard pid > 0 else {
            close(readEnd)
            throw EngineError.failure("cannot start the monitor \(monitorPath): \(String(cString: strerror(-pid)))")
        }
        let line = try await ProcessRunner.offload { () -> String in
            defer { close(readEnd) }
            return String(decoding: (try? FileSystem.readAll(readEnd)) ?? [], as: UTF8.self)
        }
        let verdict = line.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        if verdict.hasPrefix("ok "), let processPID = Int32(verdict.dropFirst(3).trimmed) {
            return Started(monitorPID: pid, processPID: processPID)
        }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        if verdict.hasPrefix("error ") {
            throw MonitorLauncher.classify(String(verdict.dropFirst(6)))
        }
        let log = (try? FileSystem.readFile(directory + "/monitor.log")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        throw EngineError.failure("the monitor exited without starting the container: \(log.trimmed)")
    }

    /// Maps a runtime's creation error to docker's classes: a missing command (exit 127), a
    /// command that cannot be executed (126), or a plain failure.
    static func classify(_ message: String) -> EngineError {
        let lower = message.lowercased()
        if lower.contains("executable file not found") || lower.contains("no such file or directory") {
            return .commandNotFound(commandName(in: message) ?? message)
        }
        if lower.contains("permission denied") {
            return .commandNotExecutable(commandName(in: message) ?? message)
        }
        return .failure("failed to create task for container: \(message)")
    }

    /// The quoted command in runc-style messages (`exec: "nope": executable file not found`).
    private static func commandName(in message: String) -> String? {
        // runc's message may arrive with its quotes escaped (logrus text format).
        let message = message.replacing("\\\"", with: "\"")
        guard let start = message.firstRange(of: "exec: \"") else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
