import BerthSystem
import Glibc

/// The monitor's use of the OCI runtime CLI (docs/internals.md §1): `create` or `exec -d` to
/// start the process, `delete` after it exits.
struct RuntimeCommand {
    let options: MonitorOptions

    /// Where the runtime writes the supervised process's pid.
    var pidFile: String {
        options.directory + (options.mode == .container ? "/init.pid" : "/exec.pid")
    }

    /// `runtime --root R create …` or `runtime --root R exec -d …`.
    func startArguments(consoleSocket: String?) -> [String] {
        var arguments = [options.runtime, "--root", options.runtimeRoot]
        switch options.mode {
        case .container:
            arguments += ["create", "--bundle", options.bundle, "--pid-file", pidFile]
            if let socket = consoleSocket { arguments += ["--console-socket", socket] }
        case .exec:
            arguments += ["exec", "-d", "--process", options.process, "--pid-file", pidFile]
            if let socket = consoleSocket { arguments += ["--console-socket", socket, "--tty"] }
        }
        return arguments + [options.id]
    }

    /// Runs the runtime to create the container (or start the exec) and returns the pid of the
    /// supervised process with the monitor's ends of its stdio. The process is the monitor's
    /// child once the runtime has exited (the monitor is a subreaper), so `reaper` sees it exit.
    func start(reaper: Reaper) throws -> (pid: pid_t, io: ProcessIO) {
        var prepared = try PreparedIO.make(tty: options.tty, stdin: options.stdin, directory: options.directory)
        let arguments = startArguments(consoleSocket: options.tty ? prepared.consolePath : nil)
        let runtimePid: pid_t
        do {
            runtimePid = try Spawn.run(arguments, stdin: prepared.childStdin, stdout: prepared.childStdout, stderr: prepared.childStderr)
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

    /// Runs `runtime --root R delete ID` and waits for it; failures go to the monitor log.
    func delete(reaper: Reaper) {
        let arguments = [options.runtime, "--root", options.runtimeRoot, "delete", options.id]
        do {
            let devNull = try Sys.openDevNull()
            defer { close(devNull) }
            let pid = try Spawn.run(arguments, stdin: devNull, stdout: devNull, stderr: 2)
            reaper.watch(pid)
            while reaper.status(of: pid) == nil {
                var fds = [pollfd(fd: reaper.fd, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 1, -1)
                reaper.reap()
            }
            if let status = reaper.status(of: pid), status.code != 0 {
                Sys.writeBestEffort(2, "berth-monitor: runtime delete \(options.id) failed with status \(status.code)\n")
            }
        } catch {
            Sys.writeBestEffort(2, "berth-monitor: runtime delete \(options.id): \(error)\n")
        }
    }

    private func readPid() -> pid_t? {
        guard let bytes = try? FileSystem.readFile(pidFile) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces()
        let digits = text.split(separator: "\n").first.map(String.init) ?? ""
        guard let pid = pid_t(digits), pid > 0 else { return nil }
        return pid
    }
}
