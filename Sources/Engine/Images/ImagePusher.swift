import BerthSystem
import ContentStore
import OCI
import Registry

/// Pushes local images to registries: layers (skipped when the registry has them, mounted from
/// another repository of the same registry when the image came from there, else uploaded; three
/// at a time), then the config, then the manifest under the tag, byte for byte as stored, so
/// the pushed digest is the local manifest's.
public struct ImagePusher: Sendable {
    let images: ImageService
    let content: ContentStore
    let access: RegistryAccess
    /// Layers uploaded at the same time (docker's `max-concurrent-uploads` is 5; 3 keeps two
    /// cores for hashing and the rest).
    static let concurrentUploads = 3

    /// A pusher reading images of `images` and blobs of `content`.
    public init(images: ImageService, content: ContentStore, access: RegistryAccess) {
        self.images = images
        self.content = content
        self.access = access
    }

    /// Pushes the local image `reference` names (its tag; `latest` by default). Throws
    /// `EngineError.noSuchImage` before any network traffic when there is none.
    public func push(_ reference: Reference, credentials: RegistryCredentials?, events: @escaping @Sendable (PushEvent) async -> Void) async throws {
        guard let tag = reference.tag else { throw EngineError.invalidParameter("push needs a tag, not a digest: \(reference.familiar)") }
        let record: ImageRecord
        do {
            record = try await images.resolve(reference.familiar)
        } catch EngineError.noSuchImage {
            throw EngineError.failure("An image does not exist locally with the tag: \(reference.familiarRepository)")
        }
        let manifestBytes = Array(try content.read(record.manifest))
        let manifest = try await images.manifest(of: record)
        let client = try access.client(domain: reference.domain, repository: reference.path, credentials: credentials)
        await events(.refersTo(repository: reference.familiarRepository))
        // A repository of the same registry this image was pulled from can lend its blobs.
        let mountSource = (record.repoDigests ?? []).compactMap { entry -> String? in
            guard let at = entry.firstIndex(of: "@"), let source = try? Reference(parsing: String(entry[..<at])),
                  source.domain == reference.domain, source.path != reference.path else { return nil }
            return source.path
        }.first
        let layers = Array(manifest.layers.reversed())
        for layer in layers { await events(.layer(id: layer.digest.shortID, .preparing)) }
        var started = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for layer in layers {
                if started >= ImagePusher.concurrentUploads {
                    try await group.next()
                } else if started > 0 {
                    await events(.layer(id: layer.digest.shortID, .waiting))
                }
                started += 1
                group.addTask { try await pushLayer(layer, client: client, mountSource: mountSource, events: events) }
            }
            try await group.waitForAll()
        }
        _ = try await client.pushBlob(manifest.config, path: content.path(of: manifest.config.digest), mountFrom: mountSource)
        try await client.pushManifest(manifestBytes, mediaType: record.manifestMediaType, reference: tag)
        await images.addRepoDigest("\(reference.familiarRepository)@\(record.manifest)", to: record.id)
        await events(.pushed(tag: tag, digest: record.manifest, size: Int64(manifestBytes.count)))
    }

    private func pushLayer(_ layer: Descriptor, client: RegistryClient, mountSource: String?,
                           events: @escaping @Sendable (PushEvent) async -> Void) async throws {
        let id = layer.digest.shortID
        guard content.contains(layer.digest) else {
            throw EngineError.failure("layer \(layer.digest) of this image is not in the content store; pull or load the image again")
        }
        let throttle = ProgressThrottle()
        let result = try await client.pushBlob(layer, path: content.path(of: layer.digest), mountFrom: mountSource) { sent in
            if throttle.shouldReport(sent, total: layer.size) {
                await events(.layer(id: id, .pushing(current: sent, total: layer.size)))
            }
        }
        switch result {
        case .alreadyExists: await events(.layer(id: id, .alreadyExists))
        case .mounted(let source): await events(.layer(id: id, .mounted(from: source)))
        case .uploaded: await events(.layer(id: id, .pushed))
        }
    }
}
