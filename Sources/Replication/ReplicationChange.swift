import OCI

/// One write a registry accepted, as replication sees it: what became visible (or stopped
/// being visible) in one repository. Delivery re-reads the source before applying a change,
/// so a change names the object, never its bytes.
public enum ReplicationAction: Sendable, Equatable, CustomStringConvertible {
    /// The repository serves this blob (uploaded or mounted).
    case blob(Digest)
    /// The repository holds this manifest (pushed by digest, or by a tag: then `tag` follows).
    case manifest(Digest)
    /// The tag points to this manifest.
    case tag(String, Digest)
    /// The repository stopped serving this blob.
    case deleteBlob(Digest)
    /// The manifest was removed (with every tag pointing to it).
    case deleteManifest(Digest)
    /// The tag was removed.
    case deleteTag(String)
    /// Something with this digest was removed: a notification's delete does not say whether it
    /// was a blob or a manifest, so delivery removes whichever the source no longer has.
    case deleteDigest(Digest)

    /// The action's name as stored in a queue.
    public var kind: String {
        switch self {
        case .blob: return "blob"
        case .manifest: return "manifest"
        case .tag: return "tag"
        case .deleteBlob: return "delete-blob"
        case .deleteManifest: return "delete-manifest"
        case .deleteTag: return "delete-tag"
        case .deleteDigest: return "delete"
        }
    }

    /// The digest the action names, if any.
    public var digest: Digest? {
        switch self {
        case .blob(let d), .manifest(let d), .tag(_, let d), .deleteBlob(let d), .deleteManifest(let d), .deleteDigest(let d): return d
        case .deleteTag: return nil
        }
    }

    /// The tag the action names, if any.
    public var tag: String? {
        switch self {
        case .tag(let t, _), .deleteTag(let t): return t
        default: return nil
        }
    }

    /// The action a queue row describes; nil for a row this version does not know.
    public init?(kind: String, digest: String?, tag: String?) {
        let parsed = digest.flatMap { try? Digest(parsing: $0) }
        switch (kind, parsed, tag) {
        case ("blob", let d?, _): self = .blob(d)
        case ("manifest", let d?, _): self = .manifest(d)
        case ("tag", let d?, let t?): self = .tag(t, d)
        case ("delete-blob", let d?, _): self = .deleteBlob(d)
        case ("delete-manifest", let d?, _): self = .deleteManifest(d)
        case ("delete-tag", _, let t?): self = .deleteTag(t)
        case ("delete", let d?, _): self = .deleteDigest(d)
        default: return nil
        }
    }

    /// The kinds of action about the same object as `action`, the value naming the object
    /// and the column holding it: a tag's events by its name, a manifest's or blob's by digest.
    static func sameObject(_ action: ReplicationAction) -> (kinds: [String], key: String, column: String) {
        switch action {
        case .tag(let tag, _), .deleteTag(let tag):
            return (["tag", "delete-tag"], tag, "tag")
        case .manifest(let digest), .deleteManifest(let digest):
            return (["manifest", "delete-manifest", "delete"], digest.description, "digest")
        case .blob(let digest), .deleteBlob(let digest):
            return (["blob", "delete-blob", "delete"], digest.description, "digest")
        case .deleteDigest(let digest):
            return (["blob", "delete-blob", "manifest", "delete-manifest", "delete"], digest.description, "digest")
        }
    }

    /// `kind digest` or `kind tag→digest`, for status and errors.
    public var description: String {
        switch self {
        case .tag(let t, let d): return "tag \(t) → \(d)"
        case .deleteTag(let t): return "delete-tag \(t)"
        default: return "\(kind) \(digest?.description ?? "")"
        }
    }
}

/// A change to append to the queue: an action in a repository.
public struct ReplicationChange: Sendable, Equatable {
    /// The repository's name (`team/app`).
    public var repository: String
    /// What happened in it.
    public var action: ReplicationAction

    /// A change of `repository`.
    public init(repository: String, action: ReplicationAction) {
        self.repository = repository
        self.action = action
    }
}

/// A change as the queue holds it: numbered in the order it was appended.
public struct ReplicationEvent: Sendable, Equatable {
    /// Position in the queue; later changes have larger ids.
    public var id: Int64
    /// The repository and action.
    public var change: ReplicationChange
    /// When it was appended, seconds since the epoch.
    public var recordedAt: Double

    /// An event; see each property.
    public init(id: Int64, change: ReplicationChange, recordedAt: Double) {
        self.id = id
        self.change = change
        self.recordedAt = recordedAt
    }
}
