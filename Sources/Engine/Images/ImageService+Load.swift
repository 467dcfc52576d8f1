#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentStore
import LayerArchive
import ContentDigest
import OCI

/// `manifest.json` of a `docker save` tarball.
struct DockerArchiveEntry: Codable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
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
            entries = try JSONDecoder().decode([DockerArchiveEntry].self, from: Data(FileSystem.readFile(dir + "/manifest.json")))
        } catch {
            throw EngineError.invalidParameter("manifest.json of the archive is malformed: \(error)")
        }
        var pending: [(ImageConfig, [Descriptor], [Reference])] = []
        for entry in entries {
            let configPath = try ArchivePath.resolve(entry.Config, in: dir)
            let configBytes = try FileSystem.readFile(configPath)
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
        let index = try Index.decode(Data(FileSystem.readFile(dir + "/index.json")))
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
        let path = try ArchivePath.blob(descriptor.digest, in: dir)
        let bytes = try FileSystem.readFile(path)
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

/// Paths inside an unpacked image archive, checked so that no name in the archive's JSON can
/// point outside it.
enum ArchivePath {
    static func resolve(_ name: String, in dir: String) throws -> String {
        let components = name.split(separator: "/")
        guard !name.hasPrefix("/"), !components.contains(".."), !components.isEmpty else {
            throw EngineError.invalidParameter("archive entry \"\(name)\" points outside the archive")
        }
        let path = dir + "/" + components.joined(separator: "/")
        guard FileSystem.exists(path), !FileSystem.isDirectory(path) else {
            throw EngineError.invalidParameter("archive is missing \"\(name)\"")
        }
        return path
    }

    static func blob(_ digest: Digest, in dir: String) throws -> String {
        try resolve("blobs/\(digest.algorithm)/\(digest.encoded)", in: dir)
    }

    /// The digest a docker-archive file name carries (`blobs/sha256/<hex>` or `<hex>.json`), if any.
    static func digestNamed(_ name: String) -> Digest? {
        if name.hasPrefix("blobs/sha256/") { return try? Digest(sha256Hex: String(name.dropFirst(13))) }
        if name.hasSuffix(".json") { return try? Digest(sha256Hex: String(name.dropLast(5))) }
        return nil
    }
}
