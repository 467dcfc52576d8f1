import ArgumentParser
import BerthSystem

/// The flags `run` and `create` share, with docker's names, and their translation into the
/// create body. Values are validated before anything is sent to the daemon.
struct ContainerOptions: ParsableArguments {
    @Option(name: .long, help: "Assign a name to the container")
    var name: String?

    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached")
    var interactive = false

    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY")
    var tty = false

    @Flag(name: .customLong("rm"), help: "Automatically remove the container and its associated anonymous volumes when it exits")
    var autoRemove = false

    @Option(name: .shortAndLong, help: "Set environment variables")
    var env: [String] = []

    @Option(name: .customLong("env-file"), help: "Read in a file of environment variables")
    var envFile: [String] = []

    @Option(name: .shortAndLong, help: "Set meta data on a container")
    var label: [String] = []

    @Option(name: [.customShort("w"), .long], help: "Working directory inside the container")
    var workdir: String?

    @Option(name: .shortAndLong, help: "Username or UID (format: <name|uid>[:<group|gid>])")
    var user: String?

    @Option(name: .long, help: "Overwrite the default ENTRYPOINT of the image")
    var entrypoint: String?

    @Option(name: [.customShort("h"), .long], help: "Container host name")
    var hostname: String?

    @Option(name: .shortAndLong, help: "Bind mount a volume")
    var volume: [String] = []

    @Option(name: .shortAndLong, help: "Publish a container's port to the host ([ip:][hostPort:]containerPort[/proto])")
    var publish: [String] = []

    @Option(name: .long, help: "Mount a tmpfs directory")
    var tmpfs: [String] = []

    @Option(name: .long, help: "Attach a filesystem mount to the container")
    var mount: [String] = []

    @Option(name: .customLong("volumes-from"), help: "Mount volumes from the specified container(s)")
    var volumesFrom: [String] = []

    @Option(name: .long, help: "Restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)")
    var restart: String?

    @Option(name: .customLong("health-cmd"), help: "Command to run to check health")
    var healthCmd: String?

    @Option(name: .customLong("health-interval"), help: "Time between running the check (ms|s|m|h)")
    var healthInterval: String?

    @Option(name: .customLong("health-timeout"), help: "Maximum time to allow one check to run (ms|s|m|h)")
    var healthTimeout: String?

    @Option(name: .customLong("health-retries"), help: "Consecutive failures needed to report unhealthy")
    var healthRetries: Int?

    @Option(name: .customLong("health-start-period"), help: "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)")
    var healthStartPeriod: String?

    @Option(name: .customLong("health-start-interval"), help: "Time between running the check during the start period (ms|s|m|h)")
    var healthStartInterval: String?

    @Flag(name: .customLong("no-healthcheck"), help: "Disable any container-specified HEALTHCHECK")
    var noHealthcheck = false

    @Flag(name: .customLong("read-only"), help: "Mount the container's root filesystem as read only")
    var readOnly = false

    @Option(name: .shortAndLong, help: "Memory limit")
    var memory: String?

    @Option(name: .long, help: "Number of CPUs")
    var cpus: String?

    @Option(name: .customLong("pids-limit"), help: "Tune container pids limit (set -1 for unlimited)")
    var pidsLimit: Int64?

    @Flag(name: .long, help: "Run an init inside the container that forwards signals and reaps processes")
    var `init` = false

    @Option(name: [.long, .customLong("net")], help: "Connect a container to a network (bridge, none, host, container:<id>, or a network's name)")
    var network: String?

    @Option(name: [.customLong("network-alias"), .customLong("net-alias")], help: "Add network-scoped alias for the container")
    var networkAlias: [String] = []

    @Option(name: .long, help: "IPv4 address (e.g., 172.30.100.104)")
    var ip: String?

    @Option(name: .long, help: "IPv6 address (e.g., 2001:db8::33)")
    var ip6: String?

    @Option(name: .long, help: "Add link to another container (name[:alias])")
    var link: [String] = []

    @Option(name: .customLong("add-host"), help: "Add a custom host-to-IP mapping (host:ip)")
    var addHost: [String] = []

    @Option(name: .long, help: "Set custom DNS servers")
    var dns: [String] = []

    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "Publish all exposed ports to random ports")
    var publishAll = false

    @Option(name: .customLong("cap-add"), help: "Add Linux capabilities")
    var capAdd: [String] = []

    @Option(name: .customLong("cap-drop"), help: "Drop Linux capabilities")
    var capDrop: [String] = []

    @Option(name: .customLong("security-opt"), help: "Security Options")
    var securityOpt: [String] = []

    @Option(name: .long, help: "Runtime to use for this container")
    var runtime: String?

    @Flag(name: .long, help: "Give extended privileges to this container")
    var privileged = false

    @Option(name: .long, help: "Cgroup namespace to use (host|private)")
    var cgroupns: String?

    @Option(name: .long, help: "User namespace to use (host: not the daemon's --userns-remap)")
    var userns: String?

    @Option(name: .customLong("stop-signal"), help: "Signal to stop the container")
    var stopSignal: String?

    @Option(name: .customLong("stop-timeout"), help: "Timeout (in seconds) to stop a container")
    var stopTimeout: Int?

    @Option(name: .long, help: "PID namespace to use (host or container:<name|id>)")
    var pid: String?

    @Option(name: .long, help: "IPC mode to use (private, shareable, none, host, container:<name|id>)")
    var ipc: String?

    @Option(name: .long, help: "UTS namespace to use (host or container:<name|id>)")
    var uts: String?

    @Option(name: .customLong("group-add"), help: "Add additional groups to join")
    var groupAdd: [String] = []

    @Option(name: .long, help: "Add a host device to the container (PATH[:PATH_IN_CONTAINER][:PERMISSIONS])")
    var device: [String] = []

    @Option(name: .customLong("device-cgroup-rule"), help: "Add a rule to the cgroup allowed devices list")
    var deviceCgroupRule: [String] = []

    @Option(name: .long, help: "Sysctl options (KEY=VALUE)")
    var sysctl: [String] = []

    @Option(name: .customLong("shm-size"), help: "Size of /dev/shm")
    var shmSize: String?

    @Option(name: .long, help: "Ulimit options (NAME=SOFT[:HARD])")
    var ulimit: [String] = []

    @Flag(name: .customLong("oom-kill-disable"), help: "Disable OOM Killer")
    var oomKillDisable = false

    @Option(name: .customLong("oom-score-adj"), help: "Tune host's OOM preferences (-1000 to 1000)")
    var oomScoreAdj: Int?

    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: "CPU shares (relative weight)")
    var cpuShares: Int64?

    @Option(name: .customLong("cpuset-cpus"), help: "CPUs in which to allow execution (0-3, 0,1)")
    var cpusetCpus: String?

    @Option(name: .customLong("memory-swap"), help: "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    var memorySwap: String?

    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit")
    var memoryReservation: String?

    @Option(name: .customLong("label-file"), help: "Read in a line delimited file of labels")
    var labelFile: [String] = []

    @Option(name: .long, help: "Add an annotation to the container (passed through to the OCI runtime)")
    var annotation: [String] = []

    @Option(name: .customLong("log-driver"), help: "Logging driver for the container (json-file, local, none)")
    var logDriver: String?

    @Option(name: .customLong("log-opt"), help: "Log driver options (max-size=10m, max-file=3)")
    var logOpt: [String] = []

    /// The create body for `image` running `command`; `detach` is `run -d` (no attach).
    /// Throws `CLIError.invalidFlag` for a bad `-m`/`--cpus`, `CLIError.runFailed` (125) for
    /// an unreadable env file.
    /// A `--security-opt` as the daemon takes it: `seccomp=FILE` becomes `seccomp=<the file's
    /// JSON>`, as the docker CLI sends it.
    static func sendable(securityOption option: String, commandName: String) throws -> String {
        guard let separator = option.firstIndex(where: { $0 == "=" || $0 == ":" }),
              option[..<separator] == "seccomp" else { return option }
        let value = String(option[option.index(after: separator)...])
        if value == "unconfined" || value == "builtin" { return option }
        do {
            return "seccomp=" + (try LocalFile.readText(value))
        } catch {
            throw CLIError.runFailed(command: commandName, message: "opening seccomp profile (\(value)) failed: \(error)", status: 125)
        }
    }

    /// Namespaces, devices, sysctls, ulimits and the finer limits.
    private func addResourceOptions(to host: inout HostConfigBody, commandName: String) throws {
        func bytes(_ text: String?, _ flag: String) throws -> Int64? { try ByteSize.flag(text, flag, command: commandName) }
        host.pidMode = pid
        host.ipcMode = ipc
        host.utsMode = uts
        host.groupAdd = groupAdd.isEmpty ? nil : groupAdd
        host.devices = try device.isEmpty ? nil : device.map { spec in
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), !parts[0].isEmpty else {
                throw CLIError.invalidFlag(command: commandName, value: spec, flag: "--device", reason: "bad format for path: \(spec)")
            }
            let third = parts.count == 3 ? parts[2] : (parts.count == 2 && !parts[1].hasPrefix("/") ? parts[1] : "rwm")
            let inside = parts.count >= 2 && parts[1].hasPrefix("/") ? parts[1] : parts[0]
            return DeviceMappingBody(pathOnHost: parts[0], pathInContainer: inside, cgroupPermissions: third)
        }
        host.deviceCgroupRules = deviceCgroupRule.isEmpty ? nil : deviceCgroupRule
        host.sysctls = sysctl.isEmpty ? nil : KeyValueArguments.map(sysctl)
        host.shmSize = try bytes(shmSize, "--shm-size")
        host.ulimits = try ulimit.isEmpty ? nil : ulimit.map { spec in
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let limits = parts.count == 2 ? parts[1].split(separator: ":").map { Int64($0) } : []
            guard parts.count == 2, (1...2).contains(limits.count), let soft = limits[0], let hard = limits.count == 2 ? limits[1] : soft else {
                throw CLIError.invalidFlag(command: commandName, value: spec, flag: "--ulimit", reason: "invalid ulimit argument: \(spec)")
            }
            return UlimitBody(name: parts[0], soft: soft, hard: hard)
        }
        host.oomKillDisable = oomKillDisable ? true : nil
        host.oomScoreAdj = oomScoreAdj
        host.cpuShares = cpuShares
        host.cpusetCpus = cpusetCpus
        host.memorySwap = try bytes(memorySwap, "--memory-swap")
        host.memoryReservation = try bytes(memoryReservation, "--memory-reservation")
        host.annotations = annotation.isEmpty ? nil : KeyValueArguments.map(annotation)
        if logDriver != nil || !logOpt.isEmpty {
            host.logConfig = LogConfigBody(type: logDriver ?? "", config: KeyValueArguments.map(logOpt))
        }
    }

    /// `Healthcheck` from the `--health-*` flags (docker's rules: durations not negative,
    /// `--no-healthcheck` alone).
    private func healthcheck(commandName: String) throws -> HealthcheckBody? {
        let durations = [("--health-interval", healthInterval), ("--health-timeout", healthTimeout),
                         ("--health-start-period", healthStartPeriod), ("--health-start-interval", healthStartInterval)]
        let anySet = healthCmd != nil || healthRetries != nil || durations.contains { $0.1 != nil }
        if noHealthcheck {
            guard !anySet else { throw CLIError.runFailed(command: commandName, message: "--no-healthcheck conflicts with --health-* options", status: 125) }
            return HealthcheckBody(test: ["NONE"])
        }
        guard anySet else { return nil }
        var values: [Int64] = []
        for (flag, text) in durations {
            guard let text else { values.append(0); continue }
            guard let value = GoDuration.nanoseconds(text) else {
                throw CLIError.invalidFlag(command: commandName, value: text, flag: flag, reason: "time: invalid duration \"\(text)\"")
            }
            guard value >= 0 else { throw CLIError.runFailed(command: commandName, message: "\(flag) cannot be negative", status: 125) }
            values.append(value)
        }
        if let retries = healthRetries, retries < 0 {
            throw CLIError.runFailed(command: commandName, message: "--health-retries cannot be negative", status: 125)
        }
        return HealthcheckBody(test: healthCmd.map { ["CMD-SHELL", $0] }, interval: values[0], timeout: values[1],
                               startPeriod: values[2], startInterval: values[3], retries: healthRetries ?? 0)
    }

    func makeBody(image: String, command: [String], detach: Bool, commandName: String) throws -> ContainerCreateBody {
        var body = ContainerCreateBody(image: image)
        var host = HostConfigBody()
        if let memory {
            do { host.memory = try ByteSize.parseRAM(memory) } catch let error as CLIError {
                throw CLIError.invalidFlag(command: commandName, value: memory, flag: "-m, --memory", reason: error.description)
            }
        }
        if let cpus {
            do { host.nanoCpus = try CPUCount.parseNanoCPUs(cpus) } catch let error as CLIError {
                throw CLIError.invalidFlag(command: commandName, value: cpus, flag: "--cpus", reason: error.description)
            }
        }
        do {
            var environment: [String] = []
            for path in envFile {
                environment += try EnvFile.parse(LocalFile.readText(path), lookup: LocalFile.environment)
            }
            body.env = environment + env
        } catch let error as CLIError {
            throw CLIError.runFailed(command: commandName, message: error.description, status: 125)
        }
        body.cmd = command.isEmpty ? nil : command
        if let entrypoint { body.entrypoint = [entrypoint] }
        body.user = user ?? ""
        body.workingDir = workdir ?? ""
        body.hostname = hostname ?? ""
        body.tty = tty
        body.openStdin = interactive
        body.attachStdin = interactive && !detach
        body.attachStdout = !detach
        body.attachStderr = !detach
        body.stdinOnce = body.openStdin && body.attachStdin
        body.stopSignal = stopSignal
        body.stopTimeout = stopTimeout
        var labelLines: [String] = []
        for path in labelFile {
            do {
                labelLines += try LocalFile.readText(path).split(separator: "\n").map { String($0).trimmingCharacters(in: " \t\r") }
                    .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            } catch let error as CLIError {
                throw CLIError.runFailed(command: commandName, message: error.description, status: 125)
            }
        }
        for entry in labelLines + label {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            body.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }

        var binds: [String] = []
        var anonymous: [String: EmptyObject] = [:]
        for spec in volume {
            if spec.contains(":") { binds.append(spec) } else { anonymous[spec] = EmptyObject() }
        }
        host.binds = binds.isEmpty ? nil : binds
        do {
            let mounts = try mount.map(MountBody.parse)
            host.mounts = mounts.isEmpty ? nil : mounts
        } catch let error as CLIError {
            throw CLIError.invalidFlag(command: commandName, value: mount.joined(separator: " "), flag: "--mount", reason: error.description)
        }
        host.volumesFrom = volumesFrom.isEmpty ? nil : volumesFrom
        body.healthcheck = try healthcheck(commandName: commandName)
        if let restart {
            let policy = try RestartPolicyBody.parse(restart, commandName: commandName)
            if autoRemove, policy.name != "no" {
                throw CLIError.runFailed(command: commandName, message: "conflicting options: cannot specify both --restart and --rm", status: 125)
            }
            host.restartPolicy = policy
        }
        body.volumes = anonymous.isEmpty ? nil : anonymous
        if !tmpfs.isEmpty {
            var mounts: [String: String] = [:]
            for spec in tmpfs {
                let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                mounts[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            host.tmpfs = mounts
        }
        if !publish.isEmpty {
            var exposed: [String: EmptyObject] = [:]
            var bindings: [String: [PortBindingBody]] = [:]
            for spec in publish {
                guard let (port, binding) = PortSpec.parse(spec) else {
                    throw CLIError.invalidFlag(command: commandName, value: spec, flag: "-p, --publish",
                                               reason: "invalid port specification: \"\(spec)\"")
                }
                exposed[port] = EmptyObject()
                bindings[port, default: []].append(binding)
            }
            body.exposedPorts = exposed
            host.portBindings = bindings
        }
        try addResourceOptions(to: &host, commandName: commandName)
        host.readonlyRootfs = readOnly
        host.pidsLimit = pidsLimit
        host.`init` = `init` ? true : nil
        host.networkMode = network ?? "default"
        host.links = link.isEmpty ? nil : link
        host.extraHosts = addHost.isEmpty ? nil : addHost
        host.dns = dns.isEmpty ? nil : dns
        host.publishAllPorts = publishAll ? true : nil
        if !networkAlias.isEmpty || ip != nil || ip6 != nil {
            let endpoint = EndpointBody(aliases: networkAlias.isEmpty ? nil : networkAlias, iPAMConfig: .of(ip, ip6))
            body.networkingConfig = NetworkingConfigBody(endpointsConfig: [network ?? "default": endpoint])
        }
        host.autoRemove = autoRemove
        host.capAdd = capAdd.isEmpty ? nil : capAdd
        host.capDrop = capDrop.isEmpty ? nil : capDrop
        host.securityOpt = try securityOpt.isEmpty ? nil : securityOpt.map { try Self.sendable(securityOption: $0, commandName: commandName) }
        host.runtime = runtime
        host.privileged = privileged
        host.cgroupnsMode = cgroupns
        host.usernsMode = userns
        body.hostConfig = host
        return body
    }
}
