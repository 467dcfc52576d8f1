import BerthSystem
import OCI

/// What the engine remembers about one local image: its ID (the config digest, as docker), the
/// manifest that describes it, and when it was made and last tagged.
public struct ImageRecord: Codable, Sendable, Equatable {
    public var id: Digest
    public var manifest: Digest
    public var manifestMediaType: String
    public var created: Timestamp
    public var lastTagTime: Timestamp?
    public var repoDigests: [String]?

    public init(id: Digest, manifest: Digest, manifestMediaType: String, created: Timestamp) {
        self.id = id
        self.manifest = manifest
        self.manifestMediaType = manifestMediaType
        self.created = created
    }
}

/// The image table as one document: records by ID and tags (`familiar repo:tag` → ID).
/// Replaced atomically as a whole, so a crash leaves the old table or the new one.
struct ImageTable: Codable, Sendable {
    var images: [String: ImageRecord] = [:]
    var tags: [String: Digest] = [:]

    func tags(of id: Digest) -> [String] {
        tags.filter { $0.value == id }.map(\.key).sorted()
    }
}
