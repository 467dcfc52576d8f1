#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Builder
import OCI

extension BuildRun {
    /// Runs one instruction over `state`.
    mutating func execute(_ instruction: Instruction, _ state: inout BuildState, stage: Stage) async throws {
        let env = state.expansionEnvironment
        state.imageID = nil
        do {
            switch instruction.keyword {
            case "MAINTAINER":
                state.config.author = instruction.arguments
                await commitMetadata(&state, "MAINTAINER " + instruction.arguments)
            case "ARG":
                var shown: [String] = []
                for (name, defaultValue) in try instruction.argDeclarations(env: env, expander: expander) {
                    state.declaredArgs.insert(name)
                    consumedArgs.insert(name)
                    if let given = options.buildArgs[name], let given {
                        state.args[name] = given
                    } else if let defaultValue {
                        state.args[name] = defaultValue
                    } else if let global = globalArgs[name] {
                        state.args[name] = global
                    }
                    shown.append(defaultValue.map { "\(name)=\($0)" } ?? name)
                }
                await commitMetadata(&state, "ARG " + shown.joined(separator: " "))
            case "SHELL":
                guard let shell = instruction.json, !shell.isEmpty else {
                    throw BuildError.dockerfile("SHELL requires the arguments to be in JSON form")
                }
                state.instructions.shell = shell
                state.defaults.Shell = shell
                await commitMetadata(&state, "SHELL " + GoText.plain(shell))
            case "WORKDIR":
                try await workdir(instruction, &state, env: env)
            case "RUN":
                try await run(instruction, &state, stage: stage)
            case "COPY", "ADD":
                try await copy(instruction, &state, env: env, stage: stage)
            default:
                var defaults = state.defaults
                guard let text = try state.instructions.apply(instruction, to: &defaults, env: env) else {
                    throw BuildError.dockerfile("dockerfile parse error on line \(instruction.line): unknown instruction: \(instruction.keyword)")
                }
                state.defaults = defaults
                await commitMetadata(&state, text)
            }
        } catch let error as DockerfileError {
            throw BuildError.dockerfile("\(error)")
        }
    }

    // MARK: Steps that change the configuration only

    /// Records a step that only changed the configuration: a history entry (its time reused
    /// from the cache, so a fully cached build makes the same image ID).
    mutating func commitMetadata(_ state: inout BuildState, _ text: String) async {
        let key = state.key(of: "config " + text)
        // docker's classic text: the current SHELL, then `#(nop)`.
        let createdBy = state.instructions.shell.joined(separator: " ") + " #(nop)  " + text
        let cached = options.noCache ? nil : await builder.images.cachedStep(key)?.created ?? cacheSourceMatch(state, createdBy: createdBy)?.history.created
        if cached != nil { await emit(.stream(" ---> Using cache\n")) }
        let created = cached ?? Timestamp.now().rfc3339Nano
        state.config.history = (state.config.history ?? []) + [History(created: created, createdBy: createdBy, emptyLayer: true)]
        state.config.created = created
        state.cacheKey = key
        usedSteps[key] = BuildCacheEntry(created: created, layer: nil, diffID: nil, chainID: nil, lastUsed: .now())
    }

    /// Records a step that may add a layer: from the cache when its key is known, else made by
    /// `make` (nil: the step changed no file).
    mutating func commitLayer(_ state: inout BuildState, key: String, createdBy: String,
                              make: (BuildState) async throws -> BuildLayer?) async throws {
        var layer: BuildLayer?
        var created: String?
        if !options.noCache, let cached = await builder.images.cachedStep(key),
           cached.layer.map({ builder.images.content.contains($0.digest) }) ?? true {
            await emit(.stream(" ---> Using cache\n"))
            created = cached.created
            if let descriptor = cached.layer, let diffID = cached.diffID { layer = BuildLayer(descriptor: descriptor, diffID: diffID) }
        } else if let found = cacheSourceMatch(state, createdBy: createdBy) {
            await emit(.stream(" ---> Using cache\n"))
            created = found.history.created ?? Timestamp.now().rfc3339Nano
            layer = found.layer
        } else {
            layer = try await make(state)
        }
        let stamp = created ?? Timestamp.now().rfc3339Nano
        if let layer {
            state.layers.append(layer)
            state.config.rootfs.diff_ids.append(layer.diffID)
            let chains = try await builder.images.unpackPinned(state.layers)
            pinned.append(state.layers)
            state.chainID = chains.last
        }
        state.config.history = (state.config.history ?? []) + [History(created: stamp, createdBy: createdBy, emptyLayer: layer == nil ? true : nil)]
        state.config.created = stamp
        state.cacheKey = key
        usedSteps[key] = BuildCacheEntry(created: stamp, layer: layer?.descriptor, diffID: layer?.diffID, chainID: layer == nil ? nil : state.chainID,
                                         lastUsed: .now())
    }

    // MARK: WORKDIR

    private mutating func workdir(_ instruction: Instruction, _ state: inout BuildState, env: [String: String]) async throws {
        let requested = try expander.expand(instruction.arguments, env: env)
        let current = state.defaults.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let path = Paths.clean(requested.hasPrefix("/") ? requested : current + "/" + requested)
        state.defaults.WorkingDir = path
        let key = state.key(of: "workdir " + path)
        let run = self
        try await commitLayer(&state, key: key, createdBy: state.instructions.shell.joined(separator: " ") + " #(nop) WORKDIR " + path) { state in
            try await run.withStepContainer(state, note: "WORKDIR " + path) { id in
                guard try await run.builder.containers.isDirectory(id, path: path) == false else { return nil }
                try await run.builder.containers.unpackBuildContent(id, [BuildArchive(archive: nil, directory: path)], chown: nil, permissions: nil)
                return try await run.builder.containers.buildLayer(id)
            }
        }
    }

    /// Runs `body` with a container (never started) over `state`, removed afterwards.
    func withStepContainer<T>(_ state: BuildState, note: String, _ body: (String) async throws -> T) async throws -> T {
        var spec = ContainerSpec()
        spec.image = state.baseImage?.description ?? "scratch"
        spec.process.entrypoint = []
        spec.process.cmd = ["/bin/sh", "-c", "#(nop) " + note]
        spec.network.mode = "none"
        let id = try await builder.containers.createBuildContainer(spec: spec, base: try base(of: state))
        do {
            let result = try await body(id)
            try await builder.containers.remove(id, force: true, volumes: true)
            return result
        } catch {
            try? await builder.containers.remove(id, force: true, volumes: true)
            throw error
        }
    }

    /// What a step's container is made from: the state's layers and configuration, without a
    /// health check (a step is not a service).
    func base(of state: BuildState) throws -> ContainerService.ContainerBase {
        var defaults = state.defaults
        defaults.Healthcheck = nil
        return ContainerService.ContainerBase(image: try state.baseImage ?? state.configDigest(), defaults: defaults, chainID: state.chainID)
    }
}

