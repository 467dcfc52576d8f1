import BerthSystem
import Engine
import OCI

/// docker's container JSON and Berth's `ContainerSpec`, both ways: a create body is checked
/// and translated into a spec (docker's words for what is wrong), and inspect's `Config` and
/// `HostConfig` are made from a container's record. Nothing past the API sees docker's JSON.
public enum DockerContainerTranslation {
    /// The spec a `POST /containers/create` body asks for (before the image's defaults).
    public static func spec(from config: ContainerConfig) throws -> ContainerSpec {
        let host = config.HostConfig ?? HostConfig()
        var spec = ContainerSpec()
        spec.image = config.Image ?? ""
        spec.process.entrypoint = config.Entrypoint
        spec.process.cmd = config.Cmd
        spec.process.env = config.Env ?? []
        spec.process.user = config.User ?? ""
        spec.process.workingDir = config.WorkingDir ?? ""
        spec.process.tty = config.Tty ?? false
        spec.process.openStdin = config.OpenStdin ?? false
        spec.process.stdinOnce = config.StdinOnce ?? false
        spec.process.attachStdin = config.AttachStdin ?? false
        spec.process.attachStdout = config.AttachStdout ?? false
        spec.process.attachStderr = config.AttachStderr ?? false
        spec.hostname = config.Hostname ?? ""
        spec.domainname = config.Domainname ?? ""
        spec.labels = config.Labels ?? [:]
        spec.annotations = host.Annotations ?? [:]
        spec.healthcheck = config.Healthcheck
        spec.stopSignal = config.StopSignal ?? ""
        spec.stopTimeout = config.StopTimeout
        spec.exposedPorts = (config.ExposedPorts ?? [:]).keys.sorted()

        spec.storage.binds = host.Binds ?? []
        spec.storage.mounts = try (host.Mounts ?? []).map(mountRequest)
        spec.storage.tmpfs = host.Tmpfs ?? [:]
        spec.storage.volumesFrom = host.VolumesFrom ?? []
        spec.storage.volumes = (config.Volumes ?? [:]).keys.sorted()
        spec.storage.readOnlyRootfs = host.ReadonlyRootfs ?? false

        spec.resources = resources(host)
        spec.resources.oomKillDisable = host.OomKillDisable ?? false
        spec.resources.shmSize = host.ShmSize.flatMap { $0 > 0 ? $0 : nil }
        spec.resources.ulimits = (host.Ulimits ?? []).map { ProcessLimit(name: $0.Name, soft: $0.Soft, hard: $0.Hard) }

        spec.security.privileged = host.Privileged ?? false
        spec.security.capAdd = host.CapAdd ?? []
        spec.security.capDrop = host.CapDrop ?? []
        spec.security.securityOpt = host.SecurityOpt ?? []
        spec.security.groupAdd = host.GroupAdd ?? []
        spec.security.devices = (host.Devices ?? []).map {
            DeviceRequest(pathOnHost: $0.PathOnHost, pathInContainer: $0.PathInContainer ?? "", permissions: $0.CgroupPermissions ?? "")
        }
        spec.security.deviceCgroupRules = host.DeviceCgroupRules ?? []
        spec.security.sysctls = host.Sysctls ?? [:]
        spec.security.oomScoreAdj = host.OomScoreAdj ?? 0

        spec.namespaces.pid = host.PidMode ?? ""
        spec.namespaces.ipc = host.IpcMode ?? ""
        spec.namespaces.uts = host.UTSMode ?? ""
        spec.namespaces.cgroup = host.CgroupnsMode ?? ""
        spec.namespaces.user = host.UsernsMode ?? ""

        spec.network.mode = host.NetworkMode ?? ""
        spec.network.dns = host.Dns ?? []
        spec.network.dnsSearch = host.DnsSearch ?? []
        spec.network.dnsOptions = host.DnsOptions ?? []
        spec.network.extraHosts = host.ExtraHosts ?? []
        for (key, bindings) in (host.PortBindings ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (port, proto) = try PortBinding.parseKey(key)
            let list = bindings ?? []
            for binding in list.isEmpty ? [PortBindingBody()] : list {
                spec.network.portBindings.append(PortBinding(containerPort: port, proto: proto, hostIP: binding.HostIp ?? "", hostPort: binding.HostPort ?? ""))
            }
        }
        spec.network.publishAllPorts = host.PublishAllPorts ?? false
        spec.network.links = host.Links ?? []
        // The endpoint settings of the networks the container joins: the one its mode names
        // (docker's CLI names it; an SDK that passes one network and no mode means that one),
        // then any others (API 1.44 and later).
        let endpoints = config.NetworkingConfig?.EndpointsConfig ?? [:]
        if ["", "default"].contains(spec.network.mode), endpoints.count == 1, let only = endpoints.keys.first, only != "default" {
            spec.network.mode = only
        }
        for (network, endpoint) in endpoints.sorted(by: { ($0.key != spec.network.mode ? 1 : 0, $0.key) < ($1.key != spec.network.mode ? 1 : 0, $1.key) }) {
            spec.network.joins.append(try join(network, endpoint))
            for link in endpoint.Links ?? [] where !spec.network.links.contains(link) { spec.network.links.append(link) }
        }

        spec.restartPolicy = try RestartPolicyKind(name: host.RestartPolicy?.Name, maximumRetryCount: host.RestartPolicy?.MaximumRetryCount)
        spec.log = LogSpec(driver: host.LogConfig?.Type ?? "", options: host.LogConfig?.Config ?? [:])
        spec.autoRemove = host.AutoRemove ?? false
        spec.runsInit = host.Init ?? false
        spec.runtime = host.Runtime ?? ""
        if let size = host.ConsoleSize, size.count == 2, size[0] > 0, size[1] > 0 {
            spec.consoleSize = TerminalSize(rows: size[0], columns: size[1])
        }
        return spec
    }

    /// One network's endpoint settings (of a create body or a `network connect`) as the join
    /// Berth keeps; its links become the container's.
    public static func join(_ network: String, _ endpoint: NetworkingConfigBody.EndpointBody) throws -> NetworkJoin {
        var join = NetworkJoin(network: network, aliases: endpoint.Aliases ?? [])
        if let text = endpoint.IPAMConfig?.IPv4Address, !text.isEmpty {
            guard let address = IPv4Address(text) else { throw EngineError.invalidParameter("invalid IPv4 address: \(text)") }
            join.address = address
        }
        if let text = endpoint.IPAMConfig?.IPv6Address, !text.isEmpty {
            guard let address = IPv6Address(text) else { throw EngineError.invalidParameter("invalid IPv6 address: \(text)") }
            join.address6 = address
        }
        return join
    }

    /// The cgroup limits `host` asks for, as given (nil or zero: unset).
    static func resources(_ host: HostConfig) -> ResourceSpec {
        var resources = ResourceSpec()
        resources.memory = host.Memory
        resources.memorySwap = host.MemorySwap
        resources.memoryReservation = host.MemoryReservation
        resources.memorySwappiness = host.MemorySwappiness
        resources.nanoCpus = host.NanoCpus
        resources.cpuShares = host.CpuShares
        resources.cpuQuota = host.CpuQuota
        resources.cpuPeriod = host.CpuPeriod
        resources.cpusetCpus = host.CpusetCpus ?? ""
        resources.cpusetMems = host.CpusetMems ?? ""
        resources.pidsLimit = host.PidsLimit
        return resources
    }

    /// The limits and restart policy a `POST /containers/{id}/update` body changes (its fields
    /// are `HostConfig`'s; nil or zero: unchanged; no policy name: the policy stays).
    static func update(from body: HostConfig) throws -> (ResourceSpec, RestartPolicyKind?) {
        var policy: RestartPolicyKind?
        if let requested = body.RestartPolicy, let name = requested.Name, !name.isEmpty {
            policy = try RestartPolicyKind(name: name, maximumRetryCount: requested.MaximumRetryCount)
        }
        return (resources(body), policy)
    }

    /// inspect's `Config`: what the container runs, with the image's defaults merged in.
    static func config(of record: ContainerRecord) -> ContainerConfig {
        let spec = record.spec
        var config = ContainerConfig()
        config.Hostname = spec.hostname.isEmpty ? record.shortID : spec.hostname
        config.Domainname = spec.domainname
        config.User = spec.process.user
        config.AttachStdin = spec.process.attachStdin
        config.AttachStdout = spec.process.attachStdout
        config.AttachStderr = spec.process.attachStderr
        config.ExposedPorts = spec.exposedPorts.isEmpty ? nil : Dictionary(uniqueKeysWithValues: spec.exposedPorts.map { ($0, EmptyJSON()) })
        config.Tty = spec.process.tty
        config.OpenStdin = spec.process.openStdin
        config.StdinOnce = spec.process.stdinOnce
        config.Env = spec.process.env
        config.Cmd = spec.process.cmd
        config.Image = record.imageName
        config.Volumes = spec.storage.volumes.isEmpty ? nil : Dictionary(uniqueKeysWithValues: spec.storage.volumes.map { ($0, EmptyJSON()) })
        config.WorkingDir = spec.process.workingDir
        config.Entrypoint = spec.process.entrypoint
        config.Labels = spec.labels
        config.StopSignal = spec.stopSignal.isEmpty ? nil : spec.stopSignal
        config.StopTimeout = spec.stopTimeout
        config.Healthcheck = spec.healthcheck
        return config
    }

    /// inspect's `HostConfig`, with docker's values for what was not asked for.
    static func hostConfig(of record: ContainerRecord) -> HostConfig {
        let spec = record.spec
        var host = HostConfig()
        host.Binds = spec.storage.binds.isEmpty ? nil : spec.storage.binds
        host.VolumesFrom = spec.storage.volumesFrom.isEmpty ? nil : spec.storage.volumesFrom
        host.Mounts = spec.storage.mounts.isEmpty ? nil : spec.storage.mounts.map(mountSpec)
        host.Tmpfs = spec.storage.tmpfs.isEmpty ? nil : spec.storage.tmpfs
        host.ReadonlyRootfs = spec.storage.readOnlyRootfs
        host.NetworkMode = spec.network.mode
        host.Dns = spec.network.dns
        host.DnsSearch = spec.network.dnsSearch
        host.DnsOptions = spec.network.dnsOptions
        host.ExtraHosts = spec.network.extraHosts.isEmpty ? nil : spec.network.extraHosts
        host.Links = spec.network.links.isEmpty ? nil : spec.network.links.map { link in
            let (target, alias) = ContainerService.parseLink(link)
            return "/\(target):/\(record.name)/\(alias)"
        }
        var bindings: [String: [PortBindingBody]?] = [:]
        for binding in spec.network.portBindings {
            let key = "\(binding.containerPort)/\(binding.proto)"
            bindings[key] = ((bindings[key] ?? []) ?? []) + [PortBindingBody(HostIp: binding.hostIP, HostPort: binding.hostPort)]
        }
        host.PortBindings = bindings
        host.PublishAllPorts = spec.network.publishAllPorts
        host.AutoRemove = spec.autoRemove
        host.Privileged = spec.security.privileged
        host.CapAdd = spec.security.capAdd.isEmpty ? nil : spec.security.capAdd
        host.CapDrop = spec.security.capDrop.isEmpty ? nil : spec.security.capDrop
        host.SecurityOpt = spec.security.securityOpt.isEmpty ? nil : spec.security.securityOpt
        host.GroupAdd = spec.security.groupAdd.isEmpty ? nil : spec.security.groupAdd
        host.Devices = spec.security.devices.map { DeviceMapping(PathOnHost: $0.pathOnHost, PathInContainer: $0.pathInContainer, CgroupPermissions: $0.permissions) }
        host.DeviceCgroupRules = spec.security.deviceCgroupRules.isEmpty ? nil : spec.security.deviceCgroupRules
        host.Sysctls = spec.security.sysctls.isEmpty ? nil : spec.security.sysctls
        host.OomScoreAdj = spec.security.oomScoreAdj
        let resources = spec.resources
        host.Memory = resources.memory ?? 0
        host.MemorySwap = resources.memorySwap ?? 0
        host.MemoryReservation = resources.memoryReservation ?? 0
        host.MemorySwappiness = resources.memorySwappiness
        host.OomKillDisable = resources.oomKillDisable
        host.NanoCpus = resources.nanoCpus ?? 0
        host.CpuShares = resources.cpuShares ?? 0
        host.CpuQuota = resources.cpuQuota ?? 0
        host.CpuPeriod = resources.cpuPeriod ?? 0
        host.CpusetCpus = resources.cpusetCpus
        host.CpusetMems = resources.cpusetMems
        host.PidsLimit = resources.pidsLimit
        host.ShmSize = resources.shmSize ?? 67_108_864
        host.Ulimits = resources.ulimits.map { Ulimit(Name: $0.name, Soft: $0.soft, Hard: $0.hard) }
        host.PidMode = spec.namespaces.pid
        host.IpcMode = spec.namespaces.ipc.isEmpty ? "private" : spec.namespaces.ipc
        host.UTSMode = spec.namespaces.uts
        host.CgroupnsMode = spec.namespaces.cgroup
        host.UsernsMode = spec.namespaces.user
        host.RestartPolicy = RestartPolicy(Name: spec.restartPolicy.name, MaximumRetryCount: spec.restartPolicy.maximumRetryCount)
        host.LogConfig = LogConfig(Type: spec.log.driver.isEmpty ? "json-file" : spec.log.driver, Config: spec.log.options)
        host.Init = spec.runsInit ? true : nil
        host.Runtime = record.runtime
        host.ConsoleSize = spec.consoleSize.map { [$0.rows, $0.columns] } ?? [0, 0]
        host.Annotations = spec.annotations.isEmpty ? nil : spec.annotations
        return host
    }

    /// An entry of `HostConfig.Mounts` (`--mount`), checked with docker's rules and words.
    static func mountRequest(_ spec: MountSpec) throws -> MountRequest {
        let type = spec.Type ?? "volume"
        func invalid(_ reason: String) -> EngineError {
            EngineError.invalidParameter("invalid mount config for type \"\(type)\": \(reason)")
        }
        guard spec.Target.hasPrefix("/") else { throw invalid("invalid mount path: '\(spec.Target)' mount path must be absolute") }
        guard Paths.clean(spec.Target) != "/" else { throw invalid("invalid specification: destination can't be '/'") }
        let source = spec.Source.flatMap { $0.isEmpty ? nil : $0 }
        var request: MountRequest
        switch type {
        case "bind":
            guard let source else { throw invalid("field Source must not be empty") }
            guard source.hasPrefix("/") else { throw invalid("invalid mount path: '\(source)' mount path must be absolute") }
            guard spec.VolumeOptions == nil else { throw invalid("field VolumeOptions must not be specified") }
            guard spec.TmpfsOptions == nil else { throw invalid("field TmpfsOptions must not be specified") }
            request = MountRequest(kind: .bind, source: source, destination: spec.Target)
            request.propagation = "rprivate"
            request.copyData = false
            if let options = spec.BindOptions {
                if let propagation = options.Propagation, !propagation.isEmpty {
                    guard MountRequest.propagations.contains(propagation) else { throw invalid("invalid propagation mode: \(propagation)") }
                    request.propagation = propagation
                }
                request.recursive = !(options.NonRecursive ?? false)
                request.createsBindSource = options.CreateMountpoint ?? false
            }
        case "volume":
            if let source { try Volume.validate(name: source) }
            guard spec.BindOptions == nil else { throw invalid("field BindOptions must not be specified") }
            guard spec.TmpfsOptions == nil else { throw invalid("field TmpfsOptions must not be specified") }
            request = MountRequest(kind: .volume, source: source, destination: spec.Target)
            if let options = spec.VolumeOptions {
                guard (options.Subpath ?? "").isEmpty else { throw invalid("volume subpaths are not supported") }
                request.copyData = !(options.NoCopy ?? false)
                request.volumeLabels = options.Labels ?? [:]
                if let driver = options.DriverConfig?.Name, !driver.isEmpty, driver != "local" {
                    throw EngineError.invalidParameter("error looking up volume plugin \(driver): plugin \"\(driver)\" not found")
                }
                request.volumeOptions = options.DriverConfig?.Options ?? [:]
                try Volume.validate(options: request.volumeOptions)
            }
        case "tmpfs":
            guard source == nil else { throw invalid("field Source must not be specified") }
            guard spec.BindOptions == nil else { throw invalid("field BindOptions must not be specified") }
            guard spec.VolumeOptions == nil else { throw invalid("field VolumeOptions must not be specified") }
            request = MountRequest(kind: .tmpfs, source: nil, destination: spec.Target)
            request.copyData = false
            if let size = spec.TmpfsOptions?.SizeBytes {
                guard size >= 0 else { throw invalid("invalid tmpfs size: \(size)") }
                if size > 0 { request.tmpfsSize = size }
            }
            if let mode = spec.TmpfsOptions?.Mode, mode != 0 { request.tmpfsMode = mode & 0o7777 }
        default:
            throw EngineError.invalidParameter("mount type unknown: \"\(type)\"")
        }
        request.readOnly = spec.ReadOnly ?? false
        request.destination = Paths.clean(spec.Target)
        return request
    }

    /// A `--mount` request as docker shows it in `HostConfig.Mounts`.
    static func mountSpec(_ request: MountRequest) -> MountSpec {
        var spec = MountSpec(Type: request.kind.rawValue, Source: request.source, Target: request.destination, ReadOnly: request.readOnly ? true : nil)
        switch request.kind {
        case .bind:
            let propagation = request.propagation == "rprivate" ? nil : request.propagation
            if propagation != nil || !request.recursive || request.createsBindSource {
                spec.BindOptions = .init(Propagation: propagation, NonRecursive: request.recursive ? nil : true,
                                         CreateMountpoint: request.createsBindSource ? true : nil)
            }
        case .volume:
            if !request.copyData || !request.volumeLabels.isEmpty || !request.volumeOptions.isEmpty {
                spec.VolumeOptions = .init(NoCopy: request.copyData ? nil : true, Labels: request.volumeLabels.isEmpty ? nil : request.volumeLabels,
                                           DriverConfig: request.volumeOptions.isEmpty ? nil : .init(Name: "local", Options: request.volumeOptions))
            }
        case .tmpfs:
            if request.tmpfsSize != nil || request.tmpfsMode != nil {
                spec.TmpfsOptions = .init(SizeBytes: request.tmpfsSize, Mode: request.tmpfsMode)
            }
        }
        return spec
    }
}
