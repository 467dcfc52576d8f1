import BerthSystem

/// A mount as the user asked for it (`-v`, `--mount`), parsed and checked with docker's rules
/// and words, before any volume exists. Pure: no file system is touched here.
struct MountRequest: Equatable {
    var kind: MountPoint.Kind
    /// Volume name; nil for an anonymous volume. Host path for a bind.
    var source: String?
    var destination: String
    var readOnly = false
    var mode = ""
    var propagation = ""
    var copyData = true
    var recursive = true
    var tmpfsOptions: [String] = []
    /// Labels and local-driver options for a volume made by this mount (`--mount`).
    var volumeLabels: [String: String] = [:]
    var volumeOptions: [String: String] = [:]
    /// `-v /missing:/x` makes the host directory, as docker does; `--mount` refuses it.
    var createsBindSource = false

    static let propagations: Set<String> = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]

    /// `-v` / `HostConfig.Binds`: `[SOURCE:]DESTINATION[:OPTIONS]`. A source starting with `/`
    /// is a host path, any other a volume name; no source is an anonymous volume.
    static func bind(_ spec: String) throws -> MountRequest {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func invalid(_ reason: String? = nil) -> EngineError {
            EngineError.invalidParameter("invalid volume specification: '\(spec)'" + (reason.map { ": " + $0 } ?? ""))
        }
        guard (1...3).contains(parts.count), !parts.contains(where: \.isEmpty) else { throw invalid() }
        let source = parts.count >= 2 ? parts[0] : nil
        let destination = parts.count >= 2 ? parts[1] : parts[0]
        let isBind = source?.hasPrefix("/") ?? false
        var request = MountRequest(kind: isBind ? .bind : .volume, source: source, destination: destination)
        let type = isBind ? "bind" : "volume"
        guard destination.hasPrefix("/") else {
            throw invalid("invalid mount config for type \"\(type)\": invalid mount path: '\(destination)' mount path must be absolute")
        }
        guard Paths.clean(destination) != "/" else {
            throw invalid("invalid mount config for type \"\(type)\": invalid specification: destination can't be '/'")
        }
        if let source, !isBind { try Volume.validate(name: source) }
        let options = parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : []
        var access: String?
        for option in options {
            switch option {
            case "ro", "rw":
                guard access == nil else { throw invalid() }
                access = option
            case "z", "Z", "consistent", "cached", "delegated": break
            case "nocopy":
                guard !isBind else { throw invalid() }
                request.copyData = false
            case let p where propagations.contains(p):
                guard isBind, request.propagation.isEmpty else { throw invalid() }
                request.propagation = p
            default:
                throw EngineError.invalidParameter("invalid mode: \(option)")
            }
        }
        request.readOnly = access == "ro"
        request.mode = parts.count == 3 ? parts[2] : (isBind ? "" : "z")
        if isBind {
            if request.propagation.isEmpty { request.propagation = "rprivate" }
            request.createsBindSource = true
            request.copyData = false
        }
        request.destination = Paths.clean(destination)
        return request
    }

    /// `--mount` / `HostConfig.Mounts`.
    static func mount(_ spec: MountSpec) throws -> MountRequest {
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
            request = MountRequest(kind: .bind, source: source, destination: spec.Target, propagation: "rprivate", copyData: false)
            if let options = spec.BindOptions {
                if let propagation = options.Propagation, !propagation.isEmpty {
                    guard propagations.contains(propagation) else { throw invalid("invalid propagation mode: \(propagation)") }
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
            request = MountRequest(kind: .tmpfs, source: nil, destination: spec.Target, copyData: false)
            if let size = spec.TmpfsOptions?.SizeBytes {
                guard size >= 0 else { throw invalid("invalid tmpfs size: \(size)") }
                if size > 0 { request.tmpfsOptions.append("size=\(size)") }
            }
            if let mode = spec.TmpfsOptions?.Mode, mode != 0 { request.tmpfsOptions.append("mode=" + String(mode & 0o7777, radix: 8)) }
        default:
            throw EngineError.invalidParameter("mount type unknown: \"\(type)\"")
        }
        request.readOnly = spec.ReadOnly ?? false
        request.destination = Paths.clean(spec.Target)
        return request
    }
}
