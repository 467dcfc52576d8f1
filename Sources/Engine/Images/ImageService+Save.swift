#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc
import LayerArchive
import OCI

/// The layout `save` writes.
public enum ImageArchiveFormat: String, Sendable {
    /// OCI image layout plus docker's `manifest.json` and `repositories` (what moby 25+ writes;
    /// both `docker load` and OCI tools read it).
    case docker
    /// OCI image layout only.
    case oci
}

extension ImageService {
    /// `docker save`: writes the named images as one tar to `outputPath`. Blobs are hard-linked
    /// from the content store into a staging directory, so saving copies no data twice.
    public func save(names: [String], format: ImageArchiveFormat, to outputPath: String) throws {
        let stage = try makeTemporaryDirectory("save")
        defer { try? FileSystem.removeTree(stage) }
        try FileSystem.makeDirectories(stage + "/blobs/sha256", mode: 0o755)
        var indexEntries: [Descriptor] = []
        var dockerEntries: [DockerArchiveEntry] = []
        var repositories: [String: [String: String]] = [:]
        for name in names {
            let record = try resolve(name)
            let manifest = try manifest(of: record)
            let requested = (try? Reference(parsing: name)).flatMap { tags(of: record.id).contains($0.familiar) ? [$0.familiar] : nil }
            let repoTags = requested ?? (name.hasPrefix("sha256:") || record.id.encoded.hasPrefix(name) ? [] : tags(of: record.id))
            for digest in [record.manifest, manifest.config.digest] + manifest.layers.map(\.digest) {
                try linkBlob(digest, into: stage)
            }
            let manifestSize = content.size(of: record.manifest) ?? 0
            for tag in repoTags.isEmpty ? [nil] : repoTags.map(Optional.some) {
                var annotations: [String: String]?
                if let tag, let reference = try? Reference(parsing: tag) {
                    annotations = ["io.containerd.image.name": reference.description, "org.opencontainers.image.ref.name": reference.tag ?? "latest"]
                    repositories[reference.familiarRepository, default: [:]][reference.tag ?? "latest"] = record.id.encoded
                }
                indexEntries.append(Descriptor(mediaType: record.manifestMediaType, digest: record.manifest, size: manifestSize, annotations: annotations))
            }
            dockerEntries.append(DockerArchiveEntry(
                Config: "blobs/sha256/\(manifest.config.digest.encoded)",
                RepoTags: repoTags,
                Layers: manifest.layers.map { "blobs/sha256/\($0.digest.encoded)" }))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(stage + "/oci-layout", bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try FileSystem.writeAtomically(stage + "/index.json", bytes: Array(encoder.encode(Index(manifests: indexEntries))))
        if format == .docker {
            try FileSystem.writeAtomically(stage + "/manifest.json", bytes: Array(encoder.encode(dockerEntries)))
            try FileSystem.writeAtomically(stage + "/repositories", bytes: Array(encoder.encode(repositories)))
        }
        _ = try DiffWriter().writeArchive(of: stage, to: outputPath, compression: .plain)
    }

    private func linkBlob(_ digest: Digest, into stage: String) throws {
        let target = "\(stage)/blobs/sha256/\(digest.encoded)"
        if FileSystem.exists(target) { return }
        guard link(content.path(of: digest), target) == 0 else {
            throw EngineError.failure("cannot stage blob \(digest): \(String(cString: strerror(errno)))")
        }
    }
}
