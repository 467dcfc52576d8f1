import BerthSystem
import CBerthSys
import FoundationEssentials
import Glibc
import OCI

/// Runs the OCI hooks that execute in the runtime's namespaces (config.md "POSIX-platform
/// Hooks": prestart, createRuntime, poststart, poststop), each with the container's state
/// JSON on stdin, in order, killing one that outlives its `timeout`.
enum Hooks {
    /// Runs the hooks of a phase whose failure the spec makes a warning (poststart,
    /// poststop: "the runtime MUST log a warning, but the remaining hooks and lifecycle
    /// continue"): every hook runs, each failure is written to stderr.
    static func runWarning(_ hooks: [RuntimeSpec.Hook]?, phase: String, state: RuntimeState) {
        guard let hooks, !hooks.isEmpty else { return }
        for hook in hooks {
            do {
                try run([hook], phase: phase, state: state)
            } catch {
                let line = Array("berth-runtime: warning: \(error)\n".utf8)
                _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Runs `hooks` of `phase`; the first failure throws `hookFailed`.
    static func run(_ hooks: [RuntimeSpec.Hook]?, phase: String, state: RuntimeState) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let input = Array(try JSONEncoder().encode(state))
        for hook in hooks {
            let status = try run(hook, input: input)
            if status != 0 {
                throw RuntimeError.hookFailed(phase: phase, path: hook.path, status: status)
            }
        }
    }

    /// The hook's exit status (128+N when killed by signal N, including by its timeout).
    private static func run(_ hook: RuntimeSpec.Hook, input: [UInt8]) throws -> Int32 {
        var fds: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                  "create the stdin of hook \(hook.path)")
        let arguments = (hook.args ?? [hook.path]).map { strdup($0) } + [nil]
        let environment = (hook.env ?? []).map { strdup($0) } + [nil]
        let pid = berth_clone_fork(0)
        if pid == 0 {
            if dup2(fds[0], 0) < 0 { _exit(126) }
            execve(hook.path, arguments, environment)
            _exit(127)
        }
        close(fds[0])
        for pointer in arguments + environment { free(pointer) }
        guard pid > 0 else {
            close(fds[1])
            throw RuntimeError.errno("start hook \(hook.path)")
        }
        // A hook that does not read its stdin must not block or kill the runtime.
        let previous = signal(SIGPIPE, SIG_IGN)
        _ = input.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        signal(SIGPIPE, previous)
        let deadline = hook.timeout.map { Int64($0) * 1000 }
        var waited: Int64 = 0
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { throw RuntimeError.errno("wait for hook \(hook.path)") }
            if let deadline, waited >= deadline {
                _ = kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(1000)
            waited += 1
        }
        return WaitStatus.exitCode(status)
    }
}
