import BerthSystem
import Builder
import OCI

/// Builds images from a Dockerfile and a context directory as docker's classic builder does:
/// the same steps, step texts, configuration, history and layers. Each RUN runs in a container
/// over the previous step's layers and its changes become a layer; COPY and ADD unpack the
/// files they take into such a container's root and keep its changes; every other instruction
/// changes the configuration only. Steps are cached by content (`BuildCache`): a step whose key
/// is known runs nothing and writes nothing. Stages the target does not need are skipped. The
/// image is tagged only once every step succeeded; a failed build tags nothing.
public struct ImageBuilder: Sendable {
    let images: ImageService
    let containers: ContainerService
    let puller: ImagePuller
    /// Where `RUN --mount=type=cache` directories live, one per cache ID.
    let cacheMountsRoot: String

    public init(images: ImageService, containers: ContainerService, puller: ImagePuller, cacheMountsRoot: String) {
        self.images = images
        self.containers = containers
        self.puller = puller
        self.cacheMountsRoot = cacheMountsRoot
    }

    /// Builds `options.dockerfile` of the context unpacked at `context`, reporting through
    /// `emit`; answers the image ID.
    public func build(context: String, options: BuildOptions, emit: @escaping @Sendable (BuildMessage) async -> Void) async throws -> Digest {
        let buildContext = BuildContext(directory: context)
        let text = try buildContext.dockerfile(at: options.dockerfile)
        let dockerfile: Dockerfile
        do {
            dockerfile = try Dockerfile(parsing: text, fileName: options.dockerfile)
        } catch {
            throw BuildError.dockerfile("\(error)")
        }
        try buildContext.applyIgnoreRules(dockerfile: options.dockerfile)
        let tags = try options.tags.map { tag -> Reference in
            do {
                return try Reference(parsing: tag)
            } catch {
                throw EngineError.invalidParameter("invalid reference format: \(tag)")
            }
        }
        var run = BuildRun(builder: self, context: buildContext, dockerfile: dockerfile, options: options, emit: emit)
        do {
            try await run.loadCacheSources()
            let state = try await run.buildTarget()
            let id = try await run.finish(state, tags: tags)
            await run.releasePins()
            return id
        } catch {
            await run.releasePins()
            throw error
        }
    }
}
