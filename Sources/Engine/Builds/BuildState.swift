#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Builder
import ContentDigest
import OCI

/// Where one stage of a build stands after each step: the image it would be if the build
/// stopped here (layers and configuration), the cache key of the step that made it, and what
/// the Dockerfile's next instructions see (ARGs in scope, SHELL).
struct BuildState: Sendable {
    /// The image the stage's container records name (its base image; for `FROM scratch`, none).
    var baseImage: Digest?
    var layers: [BuildLayer]
    /// The top layer chain, unpacked (nil: no layers).
    var chainID: Digest?
    var config: ImageConfig
    var cacheKey: String
    /// ARG values in scope (declared in this stage, or globally for FROM).
    var args: [String: String] = [:]
    /// Names declared by ARG in this stage (with or without a value).
    var declaredArgs: Set<String> = []
    /// How configuration instructions apply here (SHELL, whether CMD was set in this stage).
    var instructions: ConfigInstructions
    /// The ID of an existing image this state is exactly (right after FROM), nil once a step
    /// changed anything.
    var imageID: Digest?

    var defaults: ContainerDefaults {
        get { config.config ?? ContainerDefaults() }
        set { config.config = newValue }
    }

    /// The image's environment as a dictionary (later entries win).
    var environment: [String: String] {
        var env: [String: String] = [:]
        for entry in defaults.Env ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            env[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return env
    }

    /// What instructions expand variables with: ARGs in scope, overridden by ENV.
    var expansionEnvironment: [String: String] {
        args.merging(environment) { $1 }
    }

    /// Sets `key` in the image's environment, in place when it is there.
    mutating func setEnvironment(_ key: String, _ value: String) {
        var env = defaults.Env ?? []
        if let index = env.firstIndex(where: { $0.hasPrefix(key + "=") || $0 == key }) {
            env[index] = "\(key)=\(value)"
        } else {
            env.append("\(key)=\(value)")
        }
        defaults.Env = env
    }

    /// The ID the configuration has as an image (docker prints it after each step).
    func configDigest() throws -> Digest {
        Digest.sha256(of: try Self.encoder.encode(config))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// The cache key of a step over this state: a digest of this state's key and `step`.
    func key(of step: String) -> String {
        Digest.sha256(of: Array((cacheKey + "\n" + step).utf8)).encoded
    }
}
