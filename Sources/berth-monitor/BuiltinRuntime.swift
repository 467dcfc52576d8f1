import CBerthSys
import Glibc
import Runtime

/// Berth's own runtime run inside the monitor (`--in-process`): each operation runs in a forked
/// child of the monitor with the stdio it is given, exactly as `berth-runtime <operation>`
/// would, but without executing and starting up a second program. The child exits with the
/// runtime's status and reports errors on its stderr in berth-runtime's words, so the monitor
/// treats it like any runtime process. The monitor is single-threaded, so forking is safe.
enum BuiltinRuntime {
    /// Forks a child that performs `operation` on container `id` under `root` and exits.
    /// Returns the child's pid.
    static func spawn(_ operation: RuntimeOperation, id: String, root: String, stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        let pid = berth_fork_stdio(stdin, stdout, stderr)
        guard pid >= 0 else { throw MonitorError.system(operation: "fork for runtime \(operation.name)", errno: errno) }
        if pid == 0 { _exit(perform(operation, id: id, root: root)) }
        return pid
    }

    private static func perform(_ operation: RuntimeOperation, id: String, root: String) -> Int32 {
        let runtime = ContainerRuntime(root: root)
        do {
            switch operation {
            case let .create(bundle, pidFile, consoleSocket):
                try runtime.create(id: id, bundlePath: bundle, consoleSocket: consoleSocket, pidFile: pidFile)
            case .start:
                try runtime.start(id: id)
            case .delete(let force):
                try runtime.delete(id: id, force: force)
            }
            return 0
        } catch let error as RuntimeError {
            Sys.writeBestEffort(2, "berth-runtime \(operation.name): \(error)\n")
            return error.exitCode
        } catch {
            Sys.writeBestEffort(2, "berth-runtime \(operation.name): \(error)\n")
            return 1
        }
    }
}

/// One operation of the OCI runtime CLI that the monitor performs on its container.
enum RuntimeOperation {
    case create(bundle: String, pidFile: String, consoleSocket: String?)
    case start
    case delete(force: Bool)

    var name: String {
        switch self {
        case .create: return "create"
        case .start: return "start"
        case .delete: return "delete"
        }
    }

    /// The operation's words on the runtime's command line, ending with the container id.
    func arguments(id: String) -> [String] {
        switch self {
        case let .create(bundle, pidFile, consoleSocket):
            return ["create", "--bundle", bundle, "--pid-file", pidFile] + (consoleSocket.map { ["--console-socket", $0] } ?? []) + [id]
        case .start:
            return ["start", id]
        case .delete(let force):
            return ["delete"] + (force ? ["--force"] : []) + [id]
        }
    }
}
