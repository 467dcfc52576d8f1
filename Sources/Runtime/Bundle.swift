import BerthSystem
import FoundationEssentials
import Glibc
import OCI

/// An OCI bundle (runtime-spec bundle.md): a directory with `config.json` and a root file system.
/// A loaded bundle has an absolute path and a decoded, validated configuration.
public struct Bundle: Sendable {
    /// Absolute path of the bundle directory.
    public let path: String
    /// The decoded configuration; `process` and `root` are known to be present. Its
    /// `linux.seccomp` is nil whenever `seccompJSON` holds the profile instead.
    public let spec: RuntimeSpec
    /// The exact text of `linux.seccomp`, undecoded (see `SeccompCompiler`); nil when there is
    /// no profile or when it was decoded into `spec` (a key with an escape on the way).
    public let seccompJSON: ArraySlice<UInt8>?

    /// Loads `<path>/config.json`; `path` may be relative to the working directory.
    public init(path: String) throws {
        self.path = Paths.absolute(path)
        let configPath = self.path + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(configPath)
        } catch {
            throw RuntimeError.invalidBundle(path: configPath, reason: "\(error)")
        }
        do {
            // The profile is cut out before decoding: JSONDecoder takes ~1.3 ms here just to
            // scan docker's 6 KB profile, and the compiled-filter cache needs only its text.
            var document = bytes
            if let raw = JSONSpan.value(at: ["linux", "seccomp"], in: bytes) {
                seccompJSON = raw.elementsEqual(Array("null".utf8)) ? nil : ArraySlice(Array(raw))
                document.replaceSubrange(raw.indices, with: Array("null".utf8))
            } else {
                seccompJSON = nil
            }
            spec = try JSONDecoder().decode(RuntimeSpec.self, from: Data(document))
        } catch {
            throw RuntimeError.invalidBundle(path: configPath, reason: "\(error)")
        }
        guard spec.process != nil else {
            throw RuntimeError.invalidBundle(path: configPath, reason: "\"process\" is missing")
        }
        guard spec.root != nil else {
            throw RuntimeError.invalidBundle(path: configPath, reason: "\"root\" is missing")
        }
    }

    /// Absolute path of the root file system (`root.path`, relative to the bundle).
    public var rootfs: String {
        Paths.resolve(spec.root?.path ?? "rootfs", relativeTo: path)
    }
}

extension Bundle {
    /// Decodes a `process.json` as `exec --process` takes it (config.md "process").
    public static func loadProcess(path: String) throws -> RuntimeSpec.Process {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(Paths.absolute(path))
        } catch {
            throw RuntimeError.invalidBundle(path: path, reason: "\(error)")
        }
        do {
            return try JSONDecoder().decode(RuntimeSpec.Process.self, from: Data(bytes))
        } catch {
            throw RuntimeError.invalidBundle(path: path, reason: "\(error)")
        }
    }
}
