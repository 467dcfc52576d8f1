/// One `--mount` argument (docker's CSV form: `type=volume,source=v,target=/data,readonly,
/// volume-nocopy,volume-label=k=v,volume-opt=k=v,bind-propagation=rshared,tmpfs-size=64m,…`),
/// as the `HostConfig.Mounts` entry docker sends.
struct MountBody: Encodable, Equatable {
    struct BindOptionsBody: Encodable, Equatable {
        var propagation: String?
        var nonRecursive: Bool?
        var createMountpoint: Bool?
    }

    struct VolumeOptionsBody: Encodable, Equatable {
        var noCopy: Bool?
        var labels: [String: String]?
        var driverConfig: DriverConfigBody?
    }

    struct DriverConfigBody: Encodable, Equatable {
        var name: String?
        var options: [String: String]?
    }

    struct TmpfsOptionsBody: Encodable, Equatable {
        var sizeBytes: Int64?
        var mode: UInt32?
    }

    var type = "volume"
    var source: String?
    var target = ""
    var readOnly: Bool?
    var bindOptions: BindOptionsBody?
    var volumeOptions: VolumeOptionsBody?
    var tmpfsOptions: TmpfsOptionsBody?

    /// Parses one `--mount` value; the error text is docker's.
    static func parse(_ value: String) throws -> MountBody {
        var mount = MountBody()
        var volume = VolumeOptionsBody()
        var bind = BindOptionsBody()
        var tmpfs = TmpfsOptionsBody()
        func bool(_ key: String, _ raw: String?) throws -> Bool {
            guard let raw else { return true }
            switch raw.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw CLIError.failed("invalid value for \(key): \(raw)")
            }
        }
        for field in value.split(separator: ",").map(String.init) {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0].lowercased()
            let raw = parts.count == 2 ? parts[1] : nil
            func required() throws -> String {
                guard let raw else { throw CLIError.failed("invalid field '\(field)' must be a key=value pair") }
                return raw
            }
            switch key {
            case "type": mount.type = try required()
            case "source", "src": mount.source = try required()
            case "target", "destination", "dst": mount.target = try required()
            case "readonly", "ro": mount.readOnly = try bool(key, raw)
            case "volume-nocopy": volume.noCopy = try bool(key, raw)
            case "volume-label":
                let label = try required().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                volume.labels = (volume.labels ?? [:]).merging([label[0]: label.count == 2 ? label[1] : ""]) { $1 }
            case "volume-driver":
                volume.driverConfig = DriverConfigBody(name: try required(), options: volume.driverConfig?.options)
            case "volume-opt":
                let option = try required().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                var config = volume.driverConfig ?? DriverConfigBody()
                config.options = (config.options ?? [:]).merging([option[0]: option.count == 2 ? option[1] : ""]) { $1 }
                volume.driverConfig = config
            case "bind-propagation": bind.propagation = try required()
            case "bind-nonrecursive": bind.nonRecursive = try bool(key, raw)
            case "bind-create-mountpoint": bind.createMountpoint = try bool(key, raw)
            case "tmpfs-size": tmpfs.sizeBytes = try ByteSize.parseRAM(try required())
            case "tmpfs-mode":
                guard let mode = UInt32(try required(), radix: 8) else { throw CLIError.failed("invalid value for \(key): \(raw ?? "")") }
                tmpfs.mode = mode
            case "consistency": break
            default: throw CLIError.failed("unexpected key '\(key)' in '\(field)'")
            }
        }
        guard !mount.target.isEmpty else { throw CLIError.failed("target is required") }
        if volume != VolumeOptionsBody() {
            guard mount.type == "volume" else { throw CLIError.failed("cannot mix 'volume-*' options with mount type '\(mount.type)'") }
            mount.volumeOptions = volume
        }
        if bind != BindOptionsBody() {
            guard mount.type == "bind" else { throw CLIError.failed("cannot mix 'bind-*' options with mount type '\(mount.type)'") }
            mount.bindOptions = bind
        }
        if tmpfs != TmpfsOptionsBody() {
            guard mount.type == "tmpfs" else { throw CLIError.failed("cannot mix 'tmpfs-*' options with mount type '\(mount.type)'") }
            mount.tmpfsOptions = tmpfs
        }
        return mount
    }
}
