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
