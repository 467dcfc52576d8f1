/// One build as `POST /build` and `berth build` ask for it (docker's classic builder options).
public struct BuildOptions: Sendable, Equatable {
    /// The Dockerfile's path inside the context.
    public var dockerfile = "Dockerfile"
    /// References the image is tagged with once built (`-t`, repeatable).
    public var tags: [String] = []
    /// `--build-arg NAME=VALUE`; a nil value: the variable is declared without a value.
    public var buildArgs: [String: String?] = [:]
    /// `--label`: added to the built image's labels.
    public var labels: [String: String] = [:]
    /// `--target`: the stage to build (by name); empty: the last one.
    public var target = ""
    /// `--no-cache`: every step runs.
    public var noCache = false
    /// `--pull`: base images are pulled even when present.
    public var pull = false
    /// `--rm` (docker's default true): step containers are removed after a successful step;
    /// `--force-rm`: after a failed one too.
    public var removeIntermediate = true
    public var forceRemove = false
    /// `--network` for RUN steps (`default`, `none`, `host`, a network name); empty: default.
    public var networkMode = ""
    /// `--add-host HOST:IP` for RUN steps.
    public var extraHosts: [String] = []
    /// `--shm-size` of RUN steps, in bytes.
    public var shmSize: Int64?
    /// `--cache-from`: local images whose steps may serve as cache (`CacheSource`; the local
    /// cache is used as well).
    public var cacheFrom: [String] = []
    /// `--platform` (only this machine's platform can run here).
    public var platform = ""
    /// `--secret id=…`: content by ID, for `RUN --mount=type=secret` (kept in memory and in
    /// a file only while the step runs).
    public var secrets: [String: [UInt8]] = [:]

    public init() {}
}

/// What a build reports as it goes, in the order it happens.
public enum BuildMessage: Sendable, Equatable {
    /// Text for the user (docker's `{"stream": …}` lines): step headers, step output, results.
    case stream(String)
    /// The built image's ID (docker's `{"aux": {"ID": …}}`).
    case imageID(String)
}
