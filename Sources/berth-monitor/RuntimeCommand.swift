import BerthSystem
import Glibc

/// The monitor's use of the OCI runtime CLI (docs/internals.md §1): `create` and `start`, or
/// `exec -d`, to start the process, `delete` after it exits. With `--in-process`, create, start
/// and delete run Berth's own runtime in a forked child instead (`BuiltinRuntime`).
struct RuntimeCommand {
    let options: MonitorOptions

    /// Where the runtime writes the supervised process's pid.
    var pidFile: String {
        options.directory + (options.mode == .container ? "/init.pid" : "/exec.pid")
    }

    /// `runtime --root R create …` or `runtime --root R exec -d …`.
    func startArguments(consoleSocket: String?) -> [String] {
        switch options.mode {
        case .container:
            return runtimeArguments(createOperation(consoleSocket: consoleSocket).arguments(id: options.id))
        case .exec:
            var arguments = ["exec", "-d", "--process", options.process, "--pid-file", pidFile]
            if let socket = consoleSocket { arguments += ["--console-socket", socket, "--tty"] }
            return runtimeArguments(arguments + [options.id])
        }
    }

    private func createOperation(consoleSocket: String?) -> RuntimeOperation {
        .create(bundle: options.bundle, pidFile: pidFile, consoleSocket: consoleSocket)
    }

    /// Runs the runtime to create the container (or start the exec) and returns the pid of the
    /// supervised process with the monitor's ends of its stdio. The process is the monitor's
    /// child once the runtime has exited (the monitor is a subreaper), so `reaper` sees it exit.
    func start(reaper: Reaper) throws -> (pid: pid_t, io: ProcessIO) {
        var prepared = try PreparedIO.make(tty: options.tty, stdin: options.stdin, directory: options.directory)
        let consoleSocket = options.tty ? prepared.consolePath : nil
        let runtimePid: pid_t
        do {
            if options.inProcess && options.mode == .container {
                runtimePid = try BuiltinRuntime.spawn(createOperation(consoleSocket: consoleSocket), id: options.id, root: options.runtimeRoot,
                                                      stdin: prepared.childStdin, stdout: prepared.childStdout, stderr: prepared.childStderr)
            } else {
                runtimePid = try Spawn.run(startArguments(consoleSocket: consoleSocket), stdin: prepared.childStdin,
                                           stdout: prepared.childStdout, stderr: prepared.childStderr)
            }
        } catch {
            prepared.closeChildEnds()
            prepared.closeConsoleListener()
            prepared.closeAll()
            throw error
        }
        prepared.closeChildEnds()
        reaper.watch(runtimePid)
        var received = false
        while reaper.status(of: runtimePid) == nil {
            var fds = [pollfd(fd: reaper.fd, events: Int16(POLLIN), revents: 0)]
            if options.tty && !received { fds.append(pollfd(fd: prepared.consoleListener, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR {
                throw MonitorError.system(operation: "poll while the runtime runs", errno: errno)
            }
            if fds.count > 1 && fds[1].revents != 0 { received = prepared.receiveConsole(stdin: options.stdin) }
            if fds[0].revents != 0 { reaper.reap() }
        }
        if options.tty && !received { received = prepared.receiveConsole(stdin: options.stdin) }
        prepared.closeConsoleListener()
        let status = reaper.status(of: runtimePid) ?? ExitStatus(code: 255, signal: nil)
        let verb = options.mode == .container ? "create" : "exec"
        guard status.code == 0 else {
            let message = prepared.runtimeErrorText()
            prepared.closeAll()
            let how = status.signal.map { "was killed by signal \($0)" } ?? "exited with status \(status.code)"
            throw MonitorError.runtimeFailed(command: verb, status: how, message: message)
        }
        if options.tty { close(prepared.runtimeErrors) }
        guard options.tty == false || prepared.io.terminal >= 0 else {
            prepared.closeAll()
            throw MonitorError.missingConsole(path: prepared.consolePath)
        }
        guard let pid = readPid() else {
            prepared.closeAll()
            throw MonitorError.missingPidFile(path: pidFile)
        }
        return (pid, prepared.io)
    }

    /// Lets the created container's process run (`runtime start ID`) and waits for that.
    func startContainer(reaper: Reaper) throws {
        try runToCompletion(.start, reaper: reaper)
    }

    /// Removes the container from the runtime (`runtime delete ID`, with `--force` after a
    /// failed start) and waits; failures go to the monitor log.
    func delete(reaper: Reaper, force: Bool = false) {
        do {
            try runToCompletion(.delete(force: force), reaper: reaper)
        } catch {
            Sys.writeBestEffort(2, "berth-monitor: \(error)\n")
        }
    }

    /// Runs `operation` with stdin and stdout on /dev/null and waits for it. Throws with what
    /// it wrote on stderr when it fails.
    private func runToCompletion(_ operation: RuntimeOperation, reaper: Reaper) throws {
        let devNull = try Sys.openDevNull()
        defer { close(devNull) }
        let errors = try Sys.pipe()
        defer { close(errors.read) }
        let pid: pid_t
        do {
            pid = options.inProcess
                ? try BuiltinRuntime.spawn(operation, id: options.id, root: options.runtimeRoot, stdin: devNull, stdout: devNull, stderr: errors.write)
                : try Spawn.run(runtimeArguments(operation.arguments(id: options.id)), stdin: devNull, stdout: devNull, stderr: errors.write)
        } catch {
            close(errors.write)
            throw error
        }
        close(errors.write)
        reaper.watch(pid)
        while reaper.status(of: pid) == nil {
            var fds = [pollfd(fd: reaper.fd, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 1, -1) < 0 && errno != EINTR {
                throw MonitorError.system(operation: "poll while the runtime runs", errno: errno)
            }
            reaper.reap()
        }
        let status = reaper.status(of: pid) ?? ExitStatus(code: 255, signal: nil)
        guard status.code == 0 else {
            let how = status.signal.map { "was killed by signal \($0)" } ?? "exited with status \(status.code)"
            throw MonitorError.runtimeFailed(command: operation.name, status: how, message: PreparedIO.text(readFrom: errors.read))
        }
    }

    private func runtimeArguments(_ tail: [String]) -> [String] {
        [options.runtime, "--root", options.runtimeRoot] + tail
    }

    private func readPid() -> pid_t? {
        guard let bytes = try? FileSystem.readFile(pidFile) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces()
        let digits = text.split(separator: "\n").first.map(String.init) ?? ""
        guard let pid = pid_t(digits), pid > 0 else { return nil }
        return pid
    }
}
