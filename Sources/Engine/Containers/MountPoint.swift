/// One file system a container sees beside its image: a bind of a host path, a named or
/// anonymous volume, or a tmpfs. Resolved once at create from `-v`, `--mount`,
/// `--volumes-from` and the image's `VOLUME`s, persisted in the container's record, and used
/// unchanged by every start (Berth's own form, not docker's JSON; inspect shows it as
/// docker's `Mounts`).
public struct MountPoint: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case bind, volume, tmpfs
    }

    public var kind: Kind
    /// The volume's name (volumes only).
    public var name: String?
    /// The host path bound (a volume's data directory); empty for tmpfs.
    public var source: String
    /// Absolute path inside the container.
    public var destination: String
    public var readOnly: Bool
    /// docker's `Mode`: the options of a `-v` spec as given (`ro`, `z`, …), `z` for a volume
    /// named without any, empty for `--mount`.
    public var mode: String
    /// docker's `Propagation`: `rprivate` unless asked, empty for volumes and tmpfs.
    public var propagation: String
    /// Whether an empty volume is filled with the image's content at the destination on
    /// start (docker's copy-up; off with `nocopy`).
    public var copyData: Bool
    /// `rbind` (true) or `bind`.
    public var recursive: Bool
    /// Options of a tmpfs (`size=…`, `mode=…`).
    public var tmpfsOptions: [String]

    public init(kind: Kind, name: String? = nil, source: String, destination: String, readOnly: Bool = false, mode: String = "",
                propagation: String = "", copyData: Bool = false, recursive: Bool = true, tmpfsOptions: [String] = []) {
        self.kind = kind
        self.name = name
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.mode = mode
        self.propagation = propagation
        self.copyData = copyData
        self.recursive = recursive
        self.tmpfsOptions = tmpfsOptions
    }
}
