import ContentStore
import OCI
import Registry

/// A manifest as the source holds it.
public struct SourceManifest: Sendable {
    /// Its exact bytes.
    public var bytes: [UInt8]
    /// Its media type.
    public var mediaType: String

    /// A manifest; see each property.
    public init(bytes: [UInt8], mediaType: String) {
        self.bytes = bytes
        self.mediaType = mediaType
    }
}

/// The registry replication copies from, read at delivery time: a change is applied only as
/// far as the source still agrees with it, so a write that never became visible (the process
/// died between queueing and publishing it) delivers nothing, and an old change never
/// overrides a newer one.
public protocol ReplicationSource: Sendable {
    /// The manifest `digest` of `repository`, nil when the repository does not hold it.
    func manifest(_ repository: String, _ digest: Digest) async throws -> SourceManifest?
    /// The digest `tag` of `repository` points to, nil when there is no such tag.
    func tag(_ repository: String, _ tag: String) async throws -> Digest?
    /// Every repository of the source.
    func repositories() async throws -> [String]
    /// Every tag of `repository` (empty when it does not exist).
    func tags(_ repository: String) async throws -> [String]
    /// The size of blob `digest` when `repository` serves it, else nil.
    func blobSize(_ repository: String, _ digest: Digest) async throws -> Int64?
    /// Runs `body` with a file holding blob `descriptor`'s bytes (valid during the call).
    func withBlobFile<T: Sendable>(_ repository: String, _ descriptor: Descriptor, _ body: @Sendable (String) async throws -> T) async throws -> T
}

/// A source reached over the distribution API (for the stand-alone forwarder): blobs are
/// downloaded, verified, into a local content store and removed after they were sent.
public struct RemoteRegistrySource: ReplicationSource {
    private let endpoint: RegistryEndpoint
    private let credentials: RegistryCredentials?
    private let cache: ContentStore

    /// A source at `endpoint`, staging blobs under `cacheDirectory`.
    public init(endpoint: RegistryEndpoint, credentials: RegistryCredentials?, cacheDirectory: String) throws {
        self.endpoint = endpoint
        self.credentials = credentials
        cache = try ContentStore(root: cacheDirectory)
    }

    private func client(_ repository: String) -> RegistryClient {
        RegistryClient(endpoint: endpoint, repository: repository, credentials: credentials)
    }

    public func manifest(_ repository: String, _ digest: Digest) async throws -> SourceManifest? {
        do {
            let fetched = try await client(repository).fetchManifest(digest.description, expected: digest)
            return SourceManifest(bytes: fetched.bytes, mediaType: fetched.descriptor.mediaType)
        } catch RegistryError.manifestUnknown {
            return nil
        }
    }

    public func tag(_ repository: String, _ tag: String) async throws -> Digest? {
        try await client(repository).manifestDigest(tag)
    }

    public func repositories() async throws -> [String] {
        try await client("").listRepositories()
    }

    public func tags(_ repository: String) async throws -> [String] {
        try await client(repository).listTags()
    }

    public func blobSize(_ repository: String, _ digest: Digest) async throws -> Int64? {
        try await client(repository).blobSize(digest)
    }

    public func withBlobFile<T: Sendable>(_ repository: String, _ descriptor: Descriptor, _ body: @Sendable (String) async throws -> T) async throws -> T {
        try await client(repository).fetchBlob(descriptor, into: cache)
        defer { try? cache.delete(descriptor.digest) }
        return try await body(cache.path(of: descriptor.digest))
    }
}
