#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import EngineAPI
import Glibc
import LayerArchive
import OCI
import Registry
import Runtime

/// Every parser of untrusted input, as fuzz targets: each takes arbitrary bytes and must
/// return (or throw a typed error) without crashing, hanging or writing outside its scratch
/// directory. `run(_:_:)` is what libFuzzer (`berth-fuzz` built with `--sanitize=fuzzer`) and
/// the replay driver (the normal build) call.
enum FuzzTargets {
    static let names = ["layer", "image-json", "api", "registry", "docker-archive", "seccomp"]

    /// Feeds `data` to target `name`; false for an unknown name.
    static func run(_ name: String, _ data: [UInt8]) -> Bool {
        switch name {
        case "layer": layer(data)
        case "image-json": imageJSON(data)
        case "api": api(data)
        case "registry": registry(data)
        case "docker-archive": dockerArchive(data)
        case "seccomp": seccomp(data)
        default: return false
        }
        return true
    }

    /// A layer tar (any compression) unpacked into a scratch root, which is removed after.
    static func layer(_ data: [UInt8]) {
        let scratch = Scratch.directory
        let input = scratch + "/layer"
        let root = scratch + "/root"
        guard (try? FileSystem.writeAtomically(input, bytes: data, mode: 0o600, durable: false)) != nil,
              mkdir(root, 0o755) == 0 else { return }
        defer {
            try? FileSystem.removeTree(root)
            unlink(input)
        }
        _ = try? LayerApplier(limits: Scratch.limits).apply(layerAt: input, to: root)
    }

    /// Manifests, indexes and configs, as a registry or an archive would send them.
    static func imageJSON(_ data: [UInt8]) {
        let bytes = Data(data)
        _ = try? Manifest.decode(bytes)
        _ = try? Index.decode(bytes)
        if let config = try? ImageConfig.decode(bytes) {
            _ = try? ConfigChanges.apply(config.config?.Cmd ?? [], to: config.config ?? ContainerDefaults())
        }
    }

    /// The Engine API's request decoding: a request target (path and query), list filters,
    /// and the JSON bodies of container create and exec with the checks create makes.
    static func api(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let target = RequestTarget.parse(text)
        _ = target.version.flatMap(APIVersion.init)
        _ = try? ListFilters(target.query["filters"]?.first ?? text)
        let bytes = Data(data)
        if let config = try? JSONDecoder().decode(ContainerConfig.self, from: bytes), let spec = try? DockerContainerTranslation.spec(from: config) {
            _ = try? SecurityOptions(spec.security.securityOpt)
            _ = try? SecurityDefaults.capabilities(adding: spec.security.capAdd, dropping: spec.security.capDrop, privileged: false)
        }
        _ = try? JSONDecoder().decode(ExecConfig.self, from: bytes)
    }

    /// What a registry answers: challenges, URLs in `Location` and `realm`, references and
    /// digests, base64 credentials (`X-Registry-Auth`).
    static func registry(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let challenge = AuthChallenge(header: text) { _ = challenge.realm.flatMap { try? HTTPURL(parsing: $0) } }
        _ = try? HTTPURL(parsing: text)
        _ = try? Reference(parsing: text)
        _ = try? Digest(parsing: text)
        _ = Base64.decode(text)
    }

    /// `manifest.json` of a `docker save` archive.
    static func dockerArchive(_ data: [UInt8]) {
        guard let entries = try? JSONDecoder().decode([DockerArchiveEntry].self, from: Data(data)) else { return }
        for entry in entries {
            _ = ArchivePath.digestNamed(entry.Config)
            for layer in entry.Layers { _ = ArchivePath.digestNamed(layer) }
            for tag in entry.RepoTags ?? [] { _ = try? Reference(parsing: tag) }
        }
    }

    /// `--security-opt seccomp=<JSON>` through to a compiled filter (never installed).
    static func seccomp(_ data: [UInt8]) {
        guard let profile = try? SeccompProfile.decode(String(decoding: data, as: UTF8.self)) else { return }
        let resolved = profile.resolved(capabilities: SecurityDefaults.capabilities)
        _ = try? SeccompCompiler.compile(resolved)
    }
}

/// A private scratch directory for the layer target, made once per process and removed when
/// it exits (libFuzzer ends a timed run with `exit`, which runs `atexit` handlers).
enum Scratch {
    static let directory: String = {
        var template = Array("/tmp/berth-fuzz-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let made = mkdtemp(base) else { return nil }
            return String(cString: made)
        }
        guard let made else { return "/tmp" }
        atexit { try? FileSystem.removeTree(Scratch.directory) }
        return made
    }()

    /// Small limits, so a bomb is refused quickly instead of filling the disk.
    static let limits = LayerLimits(maxEntries: 10_000, maxPathLength: 4096, maxHeaderBytes: 1 << 20, maxUncompressedSize: 64 << 20)
}
