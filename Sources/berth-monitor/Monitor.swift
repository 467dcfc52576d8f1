import BerthSystem
import Glibc

/// One run of the monitor: create and start the process through the runtime, report on fd 3,
/// serve until it exits, record the exit, clean up (docs/internals.md §2).
struct Monitor {
    let options: MonitorOptions
    let report: StartReport

    /// How long output is kept for expected attach clients (the daemon connects right after
    /// `ok`, but a short process can end before that), also after the process has exited.
    static let lateClientTimeoutMilliseconds: Int64 = 5000

    private var attachPath: String { options.directory + "/attach.sock" }
    private var pidPath: String { options.directory + "/monitor.pid" }

    /// Runs to the end. Returns the monitor's exit status: 0 once the process has exited and
    /// been recorded, 1 when it could not be started (after reporting `error` on fd 3).
    func run() -> Int32 {
        let started: (pid: pid_t, io: ProcessIO, reaper: Reaper, listener: Int32)
        do {
            started = try start()
        } catch {
            Sys.writeBestEffort(2, "berth-monitor: \(error)\n")
            report.fail(error)
            unlink(attachPath)
            unlink(pidPath)
            return 1
        }
        report.succeed(pid: started.pid)

        let command = RuntimeCommand(options: options)
        let log: JSONLog?
        do {
            log = options.mode == .container && !options.noLog
                ? try JSONLog(path: options.directory + "/container-json.log", maxSize: options.logMaxSize, maxFiles: options.logMaxFiles) : nil
        } catch {
            Sys.writeBestEffort(2, "berth-monitor: \(error); output is not logged\n")
            log = nil
        }
        let stdin = StdinForwarder(fd: started.io.stdin, isTerminal: started.io.terminal >= 0)
        let attach = AttachServer(listener: started.listener, stdin: stdin, terminal: started.io.terminal,
                                  stdinOnce: options.stdinOnce, awaitedClients: options.mode == .exec ? 1 : options.holdOutput)
        let loop = EventLoop(pid: started.pid, reaper: started.reaper, io: started.io, log: log, stdin: stdin, attach: attach,
                             holdMilliseconds: Monitor.lateClientTimeoutMilliseconds)
        let ended = loop.serveUntilExit()
        do {
            try ExitRecord.write(ended.status, finishedAt: ended.finishedAt, directory: options.directory)
        } catch {
            Sys.writeBestEffort(2, "berth-monitor: recording the exit failed: \(error)\n")
        }
        if options.mode == .container { command.delete(reaper: started.reaper) }
        loop.awaitExpectedClients(timeoutMilliseconds: Monitor.lateClientTimeoutMilliseconds)
        loop.closeClients()
        unlink(attachPath)
        return 0
    }

    private func start() throws -> (pid: pid_t, io: ProcessIO, reaper: Reaper, listener: Int32) {
        try ProcessSetup.detach(directory: options.directory)
        let reaper = try Reaper()
        // A restarted container reuses D: the verdict of its previous run must not be read as
        // this run's.
        if unlink(options.directory + "/exit.json") != 0 && errno != ENOENT {
            throw MonitorError.system(operation: "remove the previous exit.json", errno: errno)
        }
        try FileSystem.writeAtomically(pidPath, bytes: Array("\(getpid())\n".utf8), durable: false)
        let listener = try UnixSocket.listen(at: attachPath)
        do {
            let command = RuntimeCommand(options: options)
            let started = try command.start(reaper: reaper)
            if options.mode == .container {
                do {
                    try command.startContainer(reaper: reaper)
                } catch {
                    command.delete(reaper: reaper, force: true)
                    started.io.closeAll()
                    throw error
                }
            }
            reaper.keepOnly(started.pid)
            return (started.pid, started.io, reaper, listener)
        } catch {
            close(listener)
            throw error
        }
    }
}
