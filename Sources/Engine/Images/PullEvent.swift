import OCI

/// What a pull reports as it goes, in docker's terms (the API renders them as docker's JSON
/// progress messages, `/images/create`).
public enum PullEvent: Sendable, Equatable {
    /// `Pulling from <repository>` for the tag or digest being pulled.
    case pulling(repository: String, reference: String)
    /// A change in one layer's state; `id` is the layer digest's short form.
    case layer(id: String, LayerPullState)
    /// `Digest: sha256:…`, the manifest (or index) digest.
    case digest(Digest)
    /// The closing status line.
    case status(String)
}

/// One layer's way through a pull, as docker names the steps.
public enum LayerPullState: Sendable, Equatable {
    case alreadyExists
    case pullingFSLayer
    case waiting
    case downloading(current: Int64, total: Int64)
    case verifyingChecksum
    case downloadComplete
    case extracting
    case pullComplete
}

/// What a push reports as it goes, in docker's terms.
public enum PushEvent: Sendable, Equatable {
    /// `The push refers to repository [<repository>]`.
    case refersTo(repository: String)
    /// A change in one layer's state; `id` is the layer digest's short form.
    case layer(id: String, LayerPushState)
    /// `<tag>: digest: sha256:… size: N` and the final aux message.
    case pushed(tag: String, digest: Digest, size: Int64)
}

/// One layer's way through a push.
public enum LayerPushState: Sendable, Equatable {
    case preparing
    case waiting
    case pushing(current: Int64, total: Int64)
    case pushed
    case alreadyExists
    case mounted(from: String)
}
