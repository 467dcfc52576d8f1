import BerthSystem

/// A named volume of the `local` driver: a directory `<root>/volumes/<name>/_data` that
/// outlives the containers using it, or — with `type`/`device`/`o` options — a file system
/// mounted there while a running container uses it. Persisted in `<root>/volumes/<name>/volume.json`.
public struct Volume: Codable, Sendable, Equatable {
    public var name: String
    public var createdAt: Timestamp
    public var labels: [String: String]
    /// The local driver's options (`type`, `device`, `o`), as given.
    public var options: [String: String]

    /// The label docker ≥ 23 puts on volumes made for a container without a name (`-v /path`,
    /// an image's `VOLUME`); only these are pruned unless `all=true`, and `rm -v` removes them.
    public static let anonymousLabel = "com.docker.volume.anonymous"

    /// Whether the volume was made without a name for one container.
    public var isAnonymous: Bool { labels[Self.anonymousLabel] != nil }

    /// Whether the volume mounts a file system of its own (options given) rather than being a
    /// plain directory.
    public var mountsFileSystem: Bool { !options.isEmpty }

    /// Checks a name as docker's local driver does: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
    public static func validate(name: String) throws {
        let bytes = Array(name.utf8)
        func alphanumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        let valid = bytes.count >= 2 && alphanumeric(bytes[0]) && bytes.dropFirst().allSatisfy { alphanumeric($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
        guard valid else {
            throw EngineError.invalidParameter("create \(name): \"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
        }
    }

    /// Checks the local driver's options: only `type`, `device`, `o` (and `size`, which needs
    /// project quotas Berth does not set up, so it is refused as docker refuses it without
    /// them); `device` and `type` come together.
    public static func validate(options: [String: String]) throws {
        for key in options.keys.sorted() where !["type", "device", "o"].contains(key) {
            if key == "size" {
                throw EngineError.invalidParameter("quota size requested but no quota support")
            }
            throw EngineError.invalidParameter("invalid option: \"\(key)\"")
        }
        if !options.isEmpty, (options["type"] ?? "").isEmpty || (options["device"] ?? "").isEmpty {
            throw EngineError.invalidParameter("missing required option: \"\((options["type"] ?? "").isEmpty ? "type" : "device")\"")
        }
    }

    /// A fresh 64-hex name for an anonymous volume.
    static func anonymousName() -> String { ContainerService.newID() }
}
