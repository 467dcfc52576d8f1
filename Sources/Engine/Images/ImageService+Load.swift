#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import CBerthSys
import Glibc
import ContentStore
import LayerArchive
import ContentDigest
import OCI

/// `manifest.json` of a `docker save` tarball.
public struct DockerArchiveEntry: Codable, Sendable {
    public var Config: String
    public var RepoTags: [String]?
    public var Layers: [String]
}

extension ImageService {
    /// `docker load`: imports every image of a `docker save` tarball or an OCI image layout
    /// tarball. Every blob is verified against its digest (and every layer against the config's
    /// diff IDs) before any image becomes visible; on any error nothing is tagged. Returns
    /// docker's answer lines (`Loaded image: x:1`, `Loaded image ID: sha256:…`).
    public func load(archivePath: String) throws -> [String] {
        let dir = try makeTemporaryDirectory("load")
        defer { try? FileSystem.removeTree(dir) }
        do {
            _ = try LayerApplier().apply(layerAt: archivePath, to: dir)
        } catch {
            throw EngineError.invalidParameter("the archive is not a valid image tarball: \(error)")
        }
        do {
            if FileSystem.exists(dir + "/manifest.json") {
                return try loadDockerArchive(dir)
            }
            if FileSystem.exists(dir + "/index.json") {
                return try loadOCILayout(dir)
            }
        } catch {
            collectGarbage()
            throw error
        }
        throw EngineError.invalidParameter("the archive has neither manifest.json (docker save) nor index.json (OCI layout)")
    }

    private func loadDockerArchive(_ dir: String) throws -> [String] {
        let entries: [DockerArchiveEntry]
        do {
            entries = try JSONDecoder().decode([DockerArchiveEntry].self, from: Data(ArchivePath.readJSON("manifest.json", in: dir)))
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.invalidParameter("manifest.json of the archive is malformed: \(error)")
        }
        var pending: [(ImageConfig, [Descriptor], [Reference])] = []
        for entry in entries {
            let configBytes = try ArchivePath.readJSON(entry.Config, in: dir)
            let config = try ImageConfig.decode(Data(configBytes))
            if let expected = ArchivePath.digestNamed(entry.Config), expected != Digest.sha256(of: configBytes) {
                throw EngineError.invalidParameter("config \(entry.Config) does not match its digest")
            }
            guard config.rootfs.diff_ids.count == entry.Layers.count else {
                throw EngineError.invalidParameter("image config lists \(config.rootfs.diff_ids.count) layers but the archive has \(entry.Layers.count)")
            }
            var layers: [Descriptor] = []
            for layerName in entry.Layers {
                let path = try ArchivePath.resolve(layerName, in: dir)
                let stored = try content.importFile(path, expected: ArchivePath.digestNamed(layerName))
                layers.append(Descriptor(mediaType: try BlobCompression.mediaType(ofFileAt: path), digest: stored.digest, size: stored.size))
            }
            let tags = try (entry.RepoTags ?? []).map { tag -> Reference in
                do { return try Reference(parsing: tag) } catch { throw EngineError.invalidParameter("invalid tag \(tag) in the archive: \(error)") }
            }
            pending.append((config, layers, tags))
        }
        var lines: [String] = []
        for (config, layers, tags) in pending {
            let id = try register(config: config, layers: layers, tags: tags)
            lines += tags.isEmpty ? ["Loaded image ID: \(id)"] : tags.map { "Loaded image: \($0.familiar)" }
        }
        return lines
    }

    private func loadOCILayout(_ dir: String) throws -> [String] {
        let index = try Index.decode(Data(ArchivePath.readJSON("index.json", in: dir)))
        var lines: [String] = []
        var pending: [(Digest, Digest, String, Timestamp, [Reference], ImageConfig, Manifest)] = []
        for descriptor in index.manifests {
            var manifestDescriptor = descriptor
            if MediaType.isIndex(descriptor.mediaType) {
                let nested = try Index.decode(try verifiedBlob(descriptor, in: dir))
                guard let chosen = nested.manifest(for: Platform.current) ?? nested.manifests.first(where: { MediaType.isManifest($0.mediaType) }) else {
                    throw EngineError.invalidParameter("index \(descriptor.digest) has no manifest for \(Platform.current.os)/\(Platform.current.architecture)")
                }
                manifestDescriptor = chosen
            }
            let manifestBytes = try verifiedBlob(manifestDescriptor, in: dir)
            let manifest = try Manifest.decode(manifestBytes)
            let config = try ImageConfig.decode(try verifiedBlob(manifest.config, in: dir))
            for layer in manifest.layers {
                try content.importFile(ArchivePath.blob(layer.digest, in: dir), expected: layer.digest, expectedSize: layer.size)
            }
            try content.write(Data(manifestBytes), expected: manifestDescriptor.digest)
            // moby writes the full name in io.containerd.image.name; ref.name alone is often
            // only a tag ("1"), which names no repository, so it is used only when it is a
            // full reference.
            var tags: [Reference] = []
            let name = descriptor.annotations?["io.containerd.image.name"] ?? descriptor.annotations?["org.opencontainers.image.ref.name"]
            if let name, name.contains("/") || name.contains(":"), let reference = try? Reference(parsing: name) {
                tags.append(reference)
            }
            let created = config.created.flatMap(Timestamp.init(rfc3339:)) ?? Timestamp.now()
            pending.append((manifest.config.digest, manifestDescriptor.digest, manifestDescriptor.mediaType, created, tags, config, manifest))
        }
        for (id, manifestDigest, mediaType, created, tags, config, manifest) in pending {
            _ = try unpack(manifest: manifest, config: config)
            try commitRecord(id: id, manifest: manifestDigest, mediaType: mediaType, created: created, tags: tags)
            lines += tags.isEmpty ? ["Loaded image ID: \(id)"] : tags.map { "Loaded image: \($0.familiar)" }
        }
        return lines
    }

    /// Reads a blob of the layout, checks size and digest, and stores it.
    private func verifiedBlob(_ descriptor: Descriptor, in dir: String) throws -> Data {
        guard descriptor.size >= 0, descriptor.size <= Int64(ArchivePath.jsonLimit) else {
            throw EngineError.invalidParameter("blob \(descriptor.digest) is \(descriptor.size) bytes, more than a manifest or config may be (\(ArchivePath.jsonLimit))")
        }
        let bytes = try ArchivePath.readJSON("blobs/\(descriptor.digest.algorithm)/\(descriptor.digest.encoded)", in: dir)
        guard Int64(bytes.count) == descriptor.size else {
            throw EngineError.invalidParameter("blob \(descriptor.digest) is \(bytes.count) bytes, its descriptor says \(descriptor.size)")
        }
        guard Digest.sha256(of: bytes) == descriptor.digest else {
            throw EngineError.invalidParameter("blob \(descriptor.digest) does not match its digest")
        }
        try content.write(Data(bytes), expected: descriptor.digest)
        return Data(bytes)
    }
}

/// Paths inside an unpacked image archive, checked so that no name in the archive's JSON, and
/// no symbolic link, FIFO or device node the archive carries, can make the daemon read outside
/// it, block, or read without end.
public enum ArchivePath {
    /// The largest JSON document (manifest.json, index.json, a config or manifest) read.
    static let jsonLimit = 8 << 20

    /// The path of the regular file `name` names inside `dir`, with every symbolic link on the
    /// way resolved inside `dir` (older `docker save` archives link duplicate layers).
    static func resolve(_ name: String, in dir: String) throws -> String {
        let components = name.split(separator: "/")
        guard !name.hasPrefix("/"), !components.contains(".."), !components.isEmpty else {
            throw EngineError.invalidParameter("archive entry \"\(name)\" points outside the archive")
        }
        let root = open(dir, berth_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw EngineError.failure("cannot open \(dir): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        let fd = berth_openat2(root, name, UInt64(berth_O_PATH | O_CLOEXEC), 0, UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
        guard fd >= 0 else { throw EngineError.invalidParameter("archive is missing \"\(name)\"") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw EngineError.invalidParameter("archive entry \"\(name)\" is not a regular file")
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        let path = length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        guard path.hasPrefix(dir + "/") else { throw EngineError.invalidParameter("archive entry \"\(name)\" points outside the archive") }
        return path
    }

    /// The content of the JSON document `name` (a regular file inside `dir`, at most `jsonLimit` bytes).
    static func readJSON(_ name: String, in dir: String) throws -> [UInt8] {
        let path = try resolve(name, in: dir)
        do {
            return try FileSystem.readRegularFile(String(path.dropFirst(dir.count)), inRoot: dir, limit: jsonLimit)
        } catch {
            throw EngineError.invalidParameter("cannot read \"\(name)\" of the archive: \(error)")
        }
    }

    static func blob(_ digest: Digest, in dir: String) throws -> String {
        try resolve("blobs/\(digest.algorithm)/\(digest.encoded)", in: dir)
    }

    /// The digest a docker-archive file name carries (`blobs/sha256/<hex>` or `<hex>.json`), if any.
    public static func digestNamed(_ name: String) -> Digest? {
        if name.hasPrefix("blobs/sha256/") { return try? Digest(sha256Hex: String(name.dropFirst(13))) }
        if name.hasSuffix(".json") { return try? Digest(sha256Hex: String(name.dropLast(5))) }
        return nil
    }
}
