#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import LayerArchive
import Glibc
import CBerthSys
import ContentDigest
import ContentStore
import OCI
import Registry
import Snapshots

/// Pulls images from registries into the content store and the image table. Runs outside the
/// image service's actor (downloads take long); only the final record goes through it.
///
/// Guarantees: nothing is visible before every blob was verified (size and digest, config
/// and manifest included) and every layer unpacked under its verified diff ID; an interrupted
/// pull leaves only partial ingests, which the next pull of the same blobs resumes.
public struct ImagePuller: Sendable {
    let images: ImageService
    let content: ContentStore
    let snapshots: OverlaySnapshotter
    /// How registries are reached (insecure ones, extra certificate authorities).
    let access: RegistryAccess
    /// Layers downloaded at the same time (docker's `max-concurrent-downloads`).
    static let concurrentDownloads = 3
    /// Blobs being downloaded by any pull: a second pull of the same blob waits for the first
    /// instead of writing into the same partial file.
    let inFlight = InFlightDownloads()

    /// A puller recording into `images`, storing blobs in `content` and layers in `snapshots`.
    public init(images: ImageService, content: ContentStore, snapshots: OverlaySnapshotter, access: RegistryAccess) {
        self.images = images
        self.content = content
        self.snapshots = snapshots
        self.access = access
    }

    /// A pull whose manifest and config are fetched and verified; `complete` downloads the rest.
    public struct Resolved: Sendable {
        /// What was asked for.
        public let reference: Reference
        /// The digest the registry serves for the reference (an index's, for a multi-platform
        /// image): the image's repo digest.
        public let repoDigest: Digest
        let client: RegistryClient
        let manifest: Manifest
        let manifestDescriptor: Descriptor
        let manifestBytes: [UInt8]
        let config: ImageConfig
        let configBytes: [UInt8]
    }

    /// Fetches and checks what `reference` names, for `platform` (this machine's by default).
    /// Throws before anything is stored, so the API can still answer with an error status.
    public func resolve(_ reference: Reference, platform: Platform? = nil, credentials: RegistryCredentials?) async throws -> Resolved {
        let client = try access.client(domain: reference.domain, repository: reference.path, credentials: credentials)
        let shown = reference.familiar
        let top = try await client.fetchManifest(reference.digest?.description ?? reference.tag ?? "latest", expected: reference.digest)
        var manifestFetched = top
        if MediaType.isIndex(top.descriptor.mediaType) {
            let index = try Index.decode(Data(top.bytes))
            let wanted = platform ?? Platform.current
            guard let entry = index.manifest(for: wanted) else {
                throw RegistryError.noMatchingPlatform(platform: "\(wanted.os)/\(wanted.architecture)", reference: shown)
            }
            manifestFetched = try await client.fetchManifest(entry.digest.description, expected: entry.digest, expectedSize: entry.size)
            guard MediaType.isManifest(manifestFetched.descriptor.mediaType) else {
                throw RegistryError.malformed(what: "manifest \(entry.digest) of \(shown)", reason: "an index entry must name an image manifest")
            }
        }
        let manifest = try Manifest.decode(Data(manifestFetched.bytes))
        let configBytes = try await client.fetchSmallBlob(manifest.config)
        let config = try ImageConfig.decode(Data(configBytes))
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw RegistryError.malformed(what: "image \(shown)", reason: "\(manifest.layers.count) layers but \(config.rootfs.diff_ids.count) diff IDs in its config")
        }
        for layer in manifest.layers where layer.urls != nil || layer.mediaType == MediaType.dockerForeignLayerGzip {
            // Foreign layers would send requests (and once credentials) elsewhere (CVE-2020-15157).
            throw RegistryError.malformed(what: "layer \(layer.digest) of \(shown)", reason: "foreign layers with URLs are not fetched")
        }
        return Resolved(reference: reference, repoDigest: top.descriptor.digest, client: client, manifest: manifest,
                        manifestDescriptor: manifestFetched.descriptor, manifestBytes: manifestFetched.bytes,
                        config: config, configBytes: configBytes)
    }

    /// Downloads the layers (three at a time, each resumable and verified), unpacks them and
    /// records the image under the reference's tag. Returns the image ID.
    @discardableResult
    public func complete(_ pull: Resolved, events: @escaping @Sendable (PullEvent) async -> Void) async throws -> Digest {
        let reference = pull.reference
        let layers = pull.manifest.layers
        let chains = chainIDs(of: pull.config.rootfs.diff_ids)
        // Garbage collection must not take what this pull has fetched but not yet recorded.
        let pinned = Set(layers.map(\.digest) + [pull.manifest.config.digest, pull.manifestDescriptor.digest])
        await images.pin(blobs: pinned, chains: Set(chains))
        defer { Task { await images.unpin(blobs: pinned, chains: Set(chains)) } }
        await events(.pulling(repository: reference.familiarRepository, reference: reference.tag ?? reference.digest?.description ?? "latest"))
        for (layer, chain) in zip(layers, chains) {
            let present = content.contains(layer.digest) && snapshots.hasLayer(chainID: chain)
            await events(.layer(id: layer.digest.shortID, present ? .alreadyExists : .pullingFSLayer))
        }
        let missing = layers.filter { !content.contains($0.digest) }
        let downloaded = Set(missing.map(\.digest))
        let diffIDs = pull.config.rootfs.diff_ids
        // Each layer is unpacked as soon as it is downloaded, while the others still download:
        // layers unpack into their own directories, in any order.
        var started = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, layer) in layers.enumerated() {
                let unpack = {
                    try await self.unpack(layer, diffID: diffIDs[index], chainID: chains[index],
                                          parent: index > 0 ? chains[index - 1] : nil, downloaded: downloaded.contains(layer.digest), events: events)
                }
                guard downloaded.contains(layer.digest) else {
                    if !snapshots.hasLayer(chainID: chains[index]) { group.addTask { try await unpack() } }
                    continue
                }
                if started >= ImagePuller.concurrentDownloads {
                    try await group.next()
                } else if started > 0 {
                    await events(.layer(id: layer.digest.shortID, .waiting))
                }
                started += 1
                let stream = LayerStreamTarget(diffID: diffIDs[index], chainID: chains[index], parent: index > 0 ? chains[index - 1] : nil)
                group.addTask {
                    try await download(layer, with: pull.client, unpackingInto: stream, events: events)
                    try await unpack()
                }
            }
            try await group.waitForAll()
        }
        let previous = try? await images.resolve(reference.familiar)
        let id = try await images.recordPulled(pull)
        await events(.digest(pull.repoDigest))
        let upToDate = previous?.id == id && downloaded.isEmpty
        await events(.status(upToDate ? "Status: Image is up to date for \(reference.familiar)"
                                      : "Status: Downloaded newer image for \(reference.familiar)"))
        return id
    }

    private func unpack(_ layer: Descriptor, diffID: Digest, chainID: Digest, parent: Digest?, downloaded: Bool,
                        events: @escaping @Sendable (PullEvent) async -> Void) async throws {
        let id = layer.digest.shortID
        let present = snapshots.hasLayer(chainID: chainID)
        if !present {
            await events(.layer(id: id, .extracting))
            try snapshots.unpack(LayerSource(diffID: diffID, path: content.path(of: layer.digest)), chainID: chainID, parent: parent)
        }
        if !present || downloaded { await events(.layer(id: id, .pullComplete)) }
    }

    /// Downloads `layer` while unpacking it from the same bytes (a pipe to a thread running the
    /// unpack), so the layer is ready when its download ends. If that stream could not be used
    /// (a resumed download, a server that restarted the body, a layer that is not what its
    /// media type says), the layer is unpacked afterwards from the stored blob instead.
    private func download(_ layer: Descriptor, with client: RegistryClient, unpackingInto target: LayerStreamTarget,
                          events: @escaping @Sendable (PullEvent) async -> Void) async throws {
        let id = layer.digest.shortID
        let throttle = ProgressThrottle()
        let streaming = try StreamingUnpack(snapshots: snapshots, layer: layer, target: target)
        do {
            try await inFlight.run(layer.digest) {
                try await client.fetchBlob(layer, into: content, mirror: streaming.mirror) { received in
                    if throttle.shouldReport(received, total: layer.size) {
                        await events(.layer(id: id, .downloading(current: received, total: layer.size)))
                    }
                }
            }
        } catch {
            await streaming.finish()
            throw error
        }
        await streaming.finish()
        await events(.layer(id: id, .verifyingChecksum))
        await events(.layer(id: id, .downloadComplete))
    }
}

/// Where a layer streamed during its download is unpacked.
struct LayerStreamTarget: Sendable {
    let diffID: Digest
    let chainID: Digest
    let parent: Digest?
}

/// A layer unpacked on its own thread from a pipe that its download feeds (`BlobMirror`).
final class StreamingUnpack: Sendable {
    let mirror: BlobMirror
    private let unpacked: Task<Void, Never>

    init(snapshots: OverlaySnapshotter, layer: Descriptor, target: LayerStreamTarget) throws {
        var fds: [Int32] = [0, 0]
        guard berth_pipe2(&fds, O_CLOEXEC) == 0 else { throw EngineError.failure("pipe: \(String(cString: strerror(errno)))") }
        // A larger pipe lets the download run ahead of the unpack by a megabyte.
        _ = fcntl(fds[1], StreamingUnpack.setPipeSize, Int32(1 << 20))
        mirror = BlobMirror(fd: fds[1])
        let input = LayerInput.stream(fd: fds[0], name: "layer \(layer.digest)", gzip: layer.mediaType.hasSuffix("gzip"))
        let readEnd = fds[0]
        unpacked = Task {
            await withCheckedContinuation { continuation in
                // Blocking reads and file creation: a thread of its own, not the task pool (nor
                // Dispatch's, whose few threads would make concurrent layers take turns).
                // A failure here only means the caller unpacks the stored blob instead.
                OwnThread.start {
                    try? snapshots.unpack(input, diffID: target.diffID, chainID: target.chainID, parent: target.parent)
                    close(readEnd)
                    continuation.resume()
                }
            }
        }
    }

    /// `F_SETPIPE_SZ` (Linux), which Glibc's module does not export.
    static let setPipeSize: Int32 = 1031

    /// Ends the stream and waits for the unpack; whether it succeeded shows in the snapshotter
    /// (the layer's chain is there or not).
    func finish() async {
        mirror.finish()
        await unpacked.value
    }
}

/// Lets through a progress update at most every 100 ms (and the last one), so a fast download
/// does not flood the client with JSON lines. Used by one download, whose progress calls come
/// one after the other: it needs no lock.
final class ProgressThrottle: @unchecked Sendable {
    private var last = ContinuousClock.now - .seconds(1)

    func shouldReport(_ current: Int64, total: Int64) -> Bool {
        let now = ContinuousClock.now
        guard current >= total || now - last >= .milliseconds(100) else { return false }
        last = now
        return true
    }
}

/// One download per blob at a time across concurrent pulls; later callers share the first
/// caller's outcome.
actor InFlightDownloads {
    private var running: [Digest: Task<Void, Error>] = [:]

    func run(_ digest: Digest, _ body: @escaping @Sendable () async throws -> Void) async throws {
        if let task = running[digest] {
            try await task.value
            return
        }
        let task = Task { try await body() }
        running[digest] = task
        defer { running[digest] = nil }
        try await task.value
    }
}

/// A detached POSIX thread running one closure.
enum OwnThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping () -> Void) {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context)
        if created == 0 {
            pthread_detach(thread)
        } else {
            // No thread: run here rather than never.
            Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
        }
    }
}
