#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An image configuration (image-spec config.md), which Docker's
/// `application/vnd.docker.container.image.v1+json` shares. Unknown fields are ignored.
public struct ImageConfig: Codable, Sendable, Equatable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: ContainerDefaults?
    public var rootfs: RootFS
    public var history: [History]?

    public init(architecture: String = Platform.current.architecture, os: String = "linux", config: ContainerDefaults? = nil, rootfs: RootFS, history: [History]? = nil, created: String? = nil, author: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
        self.history = history
        self.created = created
        self.author = author
    }

    /// Decodes and validates a config: `rootfs.type` must be `layers`.
    public static func decode(_ data: Data) throws -> ImageConfig {
        let config: ImageConfig
        do {
            config = try JSONDecoder().decode(ImageConfig.self, from: data)
        } catch {
            throw OCIError.malformedDocument(kind: "image config", reason: DocumentShape.reason(error))
        }
        guard config.rootfs.type == "layers" else {
            throw OCIError.malformedDocument(kind: "image config", reason: "rootfs.type is \"\(config.rootfs.type)\", not \"layers\"")
        }
        return config
    }
}

/// The defaults a container of the image starts with (config.md, "config").
public struct ContainerDefaults: Codable, Sendable, Equatable {
    public var User: String?
    public var ExposedPorts: [String: EmptyObject]?
    public var Env: [String]?
    public var Entrypoint: [String]?
    public var Cmd: [String]?
    public var Volumes: [String: EmptyObject]?
    public var WorkingDir: String?
    public var Labels: [String: String]?
    public var StopSignal: String?
    public var Healthcheck: HealthcheckConfig?
    /// Instructions a build runs when it starts from this image (docker's `ONBUILD`; not in
    /// the OCI spec, kept as docker writes it).
    public var OnBuild: [String]?
    /// The shell of a build's shell-form instructions after `SHELL` (docker's; not in the OCI spec).
    public var Shell: [String]?

    public init(User: String? = nil, Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil, WorkingDir: String? = nil, Labels: [String: String]? = nil, StopSignal: String? = nil) {
        self.User = User
        self.Env = Env
        self.Entrypoint = Entrypoint
        self.Cmd = Cmd
        self.WorkingDir = WorkingDir
        self.Labels = Labels
        self.StopSignal = StopSignal
    }
}

/// How a container's health is checked (docker's `Healthcheck`; durations in nanoseconds, zero
/// meaning "inherit" or the default). `Test` is `["NONE"]`, `["CMD", args…]` or
/// `["CMD-SHELL", command]`.
public struct HealthcheckConfig: Codable, Sendable, Equatable {
    public var Test: [String]?
    public var Interval: Int64?
    public var Timeout: Int64?
    public var StartPeriod: Int64?
    public var StartInterval: Int64?
    public var Retries: Int?

    public init(Test: [String]? = nil, Interval: Int64? = nil, Timeout: Int64? = nil, StartPeriod: Int64? = nil, StartInterval: Int64? = nil, Retries: Int? = nil) {
        self.Test = Test
        self.Interval = Interval
        self.Timeout = Timeout
        self.StartPeriod = StartPeriod
        self.StartInterval = StartInterval
        self.Retries = Retries
    }
}

/// `{}`, as used for the keys of ExposedPorts and Volumes.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

/// The layers of an image by their uncompressed digests, base first.
public struct RootFS: Codable, Sendable, Equatable {
    public var type: String
    public var diff_ids: [Digest]

    public init(diffIDs: [Digest]) {
        self.type = "layers"
        self.diff_ids = diffIDs
    }
}

/// One step of an image's history.
public struct History: Codable, Sendable, Equatable {
    public var created: String?
    public var created_by: String?
    public var author: String?
    public var comment: String?
    public var empty_layer: Bool?

    public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.created_by = createdBy
        self.comment = comment
        self.empty_layer = emptyLayer
    }
}
