import BerthSystem

/// A mount as the user asked for it (`-v`, `--mount`), parsed and checked with docker's rules
/// and words, before any volume exists. Pure: no file system is touched here.
public struct MountRequest: Codable, Sendable, Equatable {
    public var kind: MountPoint.Kind
    /// Volume name; nil for an anonymous volume. Host path for a bind.
    public var source: String?
    /// Absolute and clean.
    public var destination: String
    public var readOnly = false
    public var mode = ""
    /// Empty: none asked for (`rprivate` for a bind).
    public var propagation = ""
    public var copyData = true
    public var recursive = true
    /// A tmpfs's size in bytes; nil: the kernel's default.
    public var tmpfsSize: Int64?
    /// A tmpfs's permission bits; nil: the kernel's default.
    public var tmpfsMode: UInt32?
    /// Labels and local-driver options for a volume made by this mount (`--mount`).
    public var volumeLabels: [String: String] = [:]
    public var volumeOptions: [String: String] = [:]
    /// `-v /missing:/x` makes the host directory, as docker does; `--mount` refuses it unless
    /// asked (`bind-create-mountpoint`).
    public var createsBindSource = false

    /// A request of `kind` for `destination`, other fields at their defaults.
    public init(kind: MountPoint.Kind, source: String?, destination: String) {
        self.kind = kind
        self.source = source
        self.destination = destination
    }

    /// The propagation modes a bind may ask for.
    public static let propagations: Set<String> = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]

    /// The options a tmpfs made for this request is mounted with.
    var tmpfsOptions: [String] {
        (tmpfsSize.map { ["size=\($0)"] } ?? []) + (tmpfsMode.map { ["mode=" + String($0 & 0o7777, radix: 8)] } ?? [])
    }

    /// `-v` / `HostConfig.Binds`: `[SOURCE:]DESTINATION[:OPTIONS]`. A source starting with `/`
    /// is a host path, any other a volume name; no source is an anonymous volume.
    public static func bind(_ spec: String) throws -> MountRequest {
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
}
