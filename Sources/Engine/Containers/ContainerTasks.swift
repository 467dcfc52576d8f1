/// What `ContainerService` asks of the world outside the daemon to run containers: start a
/// monitor (which creates and runs the process, docs/internals.md §2), learn when a monitor
/// or a process ends (the exit events the service turns into `die`), and run the container's
/// OCI runtime for `kill`, `pause`, `resume`, `update`, `delete` and health probes. The
/// service keeps the records and decides; a task implementation only acts. `RuntimeTasks` is
/// the real one; tests use a fake that records the calls and ends processes on demand.
protocol ContainerTasks: Sendable {
    /// Starts a monitor with `arguments` in `directory` and returns once it reported the
    /// process running (or throws what it reported).
    func startMonitor(arguments: [String], directory: String) async throws -> MonitorLauncher.Started

    /// Calls `onExit` once when process `pid` (a monitor, or a container's init whose monitor
    /// died) has ended; at once when it already has.
    func watch(pid: Int32, onExit: @escaping @Sendable () -> Void)

    /// Runs the container's runtime (`<runtime> --root <state> <arguments…>`) to completion.
    func runRuntime(_ runtime: String, _ arguments: [String]) async throws -> ProcessRunner.Result

    /// The same, killed after `timeoutNanoseconds` (nil then) and with stdout and stderr
    /// together, at most `outputLimit` bytes of them kept (health probes).
    func runRuntime(_ runtime: String, _ arguments: [String], timeoutNanoseconds: UInt64, outputLimit: Int) async throws -> (status: Int32, output: [UInt8])?
}

/// The real tasks: `berth-monitor` started by `MonitorLauncher`, exits seen through pidfds by
/// `ExitWatcher`, runtimes run as programs with the daemon's `--root` for each.
struct RuntimeTasks: ContainerTasks {
    let configuration: EngineConfiguration
    let launcher: MonitorLauncher
    let watcher = ExitWatcher()

    init(configuration: EngineConfiguration) {
        self.configuration = configuration
        self.launcher = MonitorLauncher(monitorPath: configuration.monitorPath)
    }

    func startMonitor(arguments: [String], directory: String) async throws -> MonitorLauncher.Started {
        try await launcher.launch(arguments: arguments, directory: directory)
    }

    func watch(pid: Int32, onExit: @escaping @Sendable () -> Void) {
        watcher.watch(pid: pid, onExit: onExit)
    }

    func runRuntime(_ runtime: String, _ arguments: [String]) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run(command(runtime) + arguments)
    }

    func runRuntime(_ runtime: String, _ arguments: [String], timeoutNanoseconds: UInt64, outputLimit: Int) async throws -> (status: Int32, output: [UInt8])? {
        try await ProcessRunner.run(command(runtime) + arguments, timeoutNanoseconds: timeoutNanoseconds, outputLimit: outputLimit)
    }

    /// `<runtime path> --root <state directory>`.
    private func command(_ runtime: String) -> [String] {
        [configuration.runtimes[runtime] ?? "/bin/false", "--root", configuration.runtimeRoot(for: runtime)]
    }
}
