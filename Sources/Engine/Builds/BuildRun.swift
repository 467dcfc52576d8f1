#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Builder
import OCI

/// One build in progress: the stages it needs, built in order, step by step, with the cache
/// entries it used or made and the layers it keeps from garbage collection until it ends.
struct BuildRun {
    let builder: ImageBuilder
    let context: BuildContext
    let dockerfile: Dockerfile
    let options: BuildOptions
    var emit: @Sendable (BuildMessage) async -> Void
    let expander: WordExpander
    /// Global ARGs (before the first FROM) with the build's values, and the platform ARGs.
    let globalArgs: [String: String]
    var stageResults: [Int: BuildState] = [:]
    var usedSteps: [String: BuildCacheEntry] = [:]
    var pinned: [[BuildLayer]] = []
    var stepNumber = 0
    var totalSteps = 0
    var consumedArgs: Set<String> = []
    /// The `--cache-from` images found here (a name that is not is skipped, as docker skips it).
    var cacheSources: [CacheSource] = []

    init(builder: ImageBuilder, context: BuildContext, dockerfile: Dockerfile, options: BuildOptions,
         emit: @escaping @Sendable (BuildMessage) async -> Void) {
        self.builder = builder
        self.context = context
        self.dockerfile = dockerfile
        self.options = options
        self.emit = emit
        self.expander = WordExpander(escape: dockerfile.escape)
        let platform = Platform.current
        var args: [String: String] = [
            "TARGETPLATFORM": "\(platform.os)/\(platform.architecture)", "TARGETOS": platform.os, "TARGETARCH": platform.architecture,
            "TARGETVARIANT": platform.variant ?? "",
            "BUILDPLATFORM": "\(platform.os)/\(platform.architecture)", "BUILDOS": platform.os, "BUILDARCH": platform.architecture,
            "BUILDVARIANT": platform.variant ?? "",
        ]
        for instruction in dockerfile.globalArgs {
            for (name, value) in (try? instruction.argDeclarations(env: args, expander: expander)) ?? [] {
                if let given = options.buildArgs[name], let given { args[name] = given } else if let value { args[name] = value }
            }
        }
        self.globalArgs = args
    }

    /// Reads the `--cache-from` images.
    mutating func loadCacheSources() async throws {
        let images = builder.images
        for name in options.cacheFrom {
            guard let record = try? await images.resolve(name) else { continue }
            let config = try await images.config(of: record)
            let manifest = try await images.manifest(of: record)
            guard manifest.layers.count == config.rootfs.diff_ids.count else { continue }
            cacheSources.append(CacheSource(history: config.history ?? [],
                                            layers: zip(manifest.layers, config.rootfs.diff_ids).map { BuildLayer(descriptor: $0, diffID: $1) }))
        }
    }

    /// What a `--cache-from` image holds for a step written `createdBy` over `state`.
    func cacheSourceMatch(_ state: BuildState, createdBy: String) -> (history: History, layer: BuildLayer?)? {
        guard !options.noCache else { return nil }
        for source in cacheSources {
            guard let found = source.match(state, createdBy: createdBy) else { continue }
            if let layer = found.layer, !builder.images.content.contains(layer.descriptor.digest) { continue }
            return found
        }
        return nil
    }

    /// The PATH docker gives a stage whose base sets none.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The ARGs docker defines without a declaration (proxies), which a build may set.
    static let predefinedArgs: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    ]

    // MARK: Stages

    /// Builds the target stage and the stages it needs; answers the target's final state.
    mutating func buildTarget() async throws -> BuildState {
        let target: Stage
        if options.target.isEmpty {
            guard let last = dockerfile.stages.last else { throw BuildError.dockerfile("the Dockerfile has no build stage") }
            target = last
        } else {
            guard let named = dockerfile.stage(named: options.target) else { throw BuildError.noSuchTarget(options.target) }
            target = named
        }
        let needed = try neededStages(target.index)
        totalSteps = needed.reduce(0) { $0 + dockerfile.stages[$1].instructions.count + 1 }
        var firstStep: [Int: Int] = [:]
        var count = 0
        for index in needed.sorted() {
            firstStep[index] = count
            count += dockerfile.stages[index].instructions.count + 1
        }
        // Stages whose dependencies are built run together; each wave's output is shown in
        // stage order once the wave is done (a lone stage's as it happens).
        var pending = needed
        while !pending.isEmpty {
            let wave = try pending.filter { index in try dependencies(of: index).isSubset(of: Set(stageResults.keys)) }.sorted()
            guard !wave.isEmpty else { throw BuildError.dockerfile("the build stages depend on each other in a circle") }
            pending.subtract(wave)
            if wave.count == 1, let index = wave.first {
                stepNumber = firstStep[index] ?? stepNumber
                stageResults[index] = try await buildStage(dockerfile.stages[index])
                continue
            }
            let pinnedBefore = pinned.count
            let outcomes = try await withThrowingTaskGroup(of: StageOutcome.self) { group in
                for index in wave {
                    var run = self
                    run.stepNumber = firstStep[index] ?? 0
                    let buffer = MessageBuffer()
                    run.emit = { message in await buffer.append(message) }
                    group.addTask {
                        let state: Result<BuildState, Error>
                        do {
                            state = .success(try await run.buildStage(run.dockerfile.stages[index]))
                        } catch {
                            state = .failure(error)
                        }
                        return StageOutcome(index: index, state: state, messages: await buffer.messages, usedSteps: run.usedSteps,
                                            pinned: Array(run.pinned.dropFirst(pinnedBefore)), consumedArgs: run.consumedArgs)
                    }
                }
                var outcomes: [StageOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes.sorted { $0.index < $1.index }
            }
            for outcome in outcomes {
                for message in outcome.messages { await emit(message) }
                usedSteps.merge(outcome.usedSteps) { $1 }
                pinned += outcome.pinned
                consumedArgs.formUnion(outcome.consumedArgs)
            }
            for outcome in outcomes {
                stageResults[outcome.index] = try outcome.state.get()
            }
        }
        let unused = options.buildArgs.keys.filter { !consumedArgs.contains($0) && !Self.predefinedArgs.contains($0) && globalArgs[$0] == nil }.sorted()
        if !unused.isEmpty {
            await emit(.stream("[Warning] One or more build-args [\(unused.joined(separator: " "))] were not consumed\n"))
        }
        guard let result = stageResults[target.index] else { throw BuildError.noSuchTarget(options.target) }
        return result
    }

    /// The stage a name refers to (`AS name` or an index) among those before `index`.
    func stageReference(_ name: String, before index: Int) -> Stage? {
        guard let stage = dockerfile.stage(named: name), stage.index < index else { return nil }
        return stage
    }

    /// `index` and every stage it reads from, directly or not.
    private func neededStages(_ index: Int) throws -> Set<Int> {
        var needed: Set<Int> = []
        var pending = [index]
        while let next = pending.popLast() {
            guard needed.insert(next).inserted else { continue }
            pending += try dependencies(of: next)
        }
        return needed
    }

    /// The stages stage `index` reads from (FROM, COPY --from, RUN --mount from=).
    private func dependencies(of index: Int) throws -> Set<Int> {
        let stage = dockerfile.stages[index]
        var references = [try expander.expand(stage.base, env: globalArgs)]
        for instruction in stage.instructions {
            if let from = instruction.flag("from") { references.append((try? expander.expand(from, env: globalArgs)) ?? from) }
            for mount in instruction.flagValues("mount") {
                for field in mount.split(separator: ",") where field.hasPrefix("from=") { references.append(String(field.dropFirst(5))) }
            }
        }
        return Set(references.compactMap { stageReference($0, before: index)?.index })
    }

    private mutating func buildStage(_ stage: Stage) async throws -> BuildState {
        await step(stage.from)
        let baseName = try expander.expand(stage.base, env: globalArgs)
        var state: BuildState
        if let earlier = stageReference(baseName, before: stage.index), var result = stageResults[earlier.index] {
            result.args = [:]
            result.declaredArgs = []
            result.instructions.cmdSet = false
            state = result
        } else if baseName.lowercased() == "scratch" {
            state = BuildState(baseImage: nil, layers: [], chainID: nil,
                               config: ImageConfig(config: ContainerDefaults(), rootfs: RootFS(diffIDs: []), history: []),
                               cacheKey: "scratch", instructions: ConfigInstructions(expander: expander))
        } else {
            let platform = try stage.platform.map { try expander.expand($0, env: globalArgs) }
            state = try await baseState(baseName, platform: platform)
        }
        let shown = try state.imageID ?? state.configDigest()
        await emit(.stream(" ---> \(shown.shortID)\n"))
        // docker's classic builder gives every stage a PATH when its base has none (after the
        // base's own variables), and shell-form instructions the base's SHELL.
        if state.environment["PATH"] == nil { state.defaults.Env = (state.defaults.Env ?? []) + ["PATH=" + Self.defaultPath] }
        if let shell = state.defaults.Shell, !shell.isEmpty { state.instructions.shell = shell }
        if let triggers = state.defaults.OnBuild, !triggers.isEmpty {
            await emit(.stream("# Executing \(triggers.count) build trigger\(triggers.count == 1 ? "" : "s")\n"))
            state.defaults.OnBuild = nil
            state.imageID = nil
            for trigger in triggers {
                let instruction: Instruction
                do {
                    instruction = try Instruction(parsingTrigger: trigger, line: stage.from.line, escape: dockerfile.escape)
                } catch {
                    throw BuildError.dockerfile("\(error)")
                }
                try await execute(instruction, &state, stage: stage)
            }
        }
        for instruction in stage.instructions {
            await step(instruction)
            try await execute(instruction, &state, stage: stage)
            await emit(.stream(" ---> \(try state.configDigest().shortID)\n"))
        }
        return state
    }

    /// The state right after `FROM name`: the local image, pulled first when missing or with
    /// `--pull`.
    private mutating func baseState(_ name: String, platform: String?) async throws -> BuildState {
        let images = builder.images
        var record = try? await images.resolve(name)
        if record == nil || options.pull {
            let reference: Reference
            do {
                reference = try Reference(parsing: name)
            } catch {
                throw BuildError.dockerfile("invalid reference format: base image \(name)")
            }
            do {
                let resolved = try await builder.puller.resolve(reference, platform: platform.flatMap(Self.platform), credentials: nil)
                _ = try await builder.puller.complete(resolved) { _ in }
            } catch {
                if record == nil { throw BuildError.dockerfile("failed to get base image \(name): \(error)") }
            }
            record = try await images.resolve(name)
        }
        guard let record else { throw EngineError.noSuchImage(name) }
        let config = try await images.config(of: record)
        let manifest = try await images.manifest(of: record)
        guard manifest.layers.count == config.rootfs.diff_ids.count else {
            throw EngineError.failure("image \(name) has \(manifest.layers.count) layers but its config lists \(config.rootfs.diff_ids.count) diff IDs")
        }
        let layers = zip(manifest.layers, config.rootfs.diff_ids).map { BuildLayer(descriptor: $0, diffID: $1) }
        let chains = try await images.unpackPinned(layers)
        pinned.append(layers)
        return BuildState(baseImage: record.id, layers: layers, chainID: chains.last, config: config,
                          cacheKey: "from " + record.id.description, instructions: ConfigInstructions(expander: expander), imageID: record.id)
    }

    /// `os/arch[/variant]`; nil for anything else.
    static func platform(_ text: String) -> Platform? {
        let parts = text.lowercased().split(separator: "/").map(String.init)
        guard (2...3).contains(parts.count) else { return nil }
        return Platform(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }

    private mutating func step(_ instruction: Instruction) async {
        stepNumber += 1
        await emit(.stream("Step \(stepNumber)/\(totalSteps) : \(instruction.source)\n"))
    }

    // MARK: Finishing

    /// Records the image of `state` (with the build's labels) and tags it; records the cache.
    mutating func finish(_ state: BuildState, tags: [Reference]) async throws -> Digest {
        var state = state
        if !options.labels.isEmpty {
            var defaults = state.defaults
            defaults.Labels = (defaults.Labels ?? [:]).merging(options.labels) { $1 }
            state.defaults = defaults
            state.imageID = nil
        }
        let images = builder.images
        let id: Digest
        if let existing = state.imageID {
            id = existing
            for tag in tags { try await images.tag(existing.description, as: tag.description) }
        } else {
            id = try await images.register(config: state.config, layers: state.layers.map(\.descriptor), tags: tags)
        }
        try await images.recordCachedSteps(usedSteps)
        await emit(.imageID(id.description))
        await emit(.stream("Successfully built \(id.shortID)\n"))
        for tag in tags { await emit(.stream("Successfully tagged \(tag.familiar)\n")) }
        return id
    }

    /// Lets garbage collection have what this build kept.
    func releasePins() async {
        for layers in pinned {
            await builder.images.unpinLayers(layers)
        }
    }
}

/// What building one stage of a parallel wave produced, merged into the run afterwards.
struct StageOutcome: Sendable {
    var index: Int
    var state: Result<BuildState, Error>
    var messages: [BuildMessage]
    var usedSteps: [String: BuildCacheEntry]
    /// What the stage pinned (beyond what the run had pinned before the wave).
    var pinned: [[BuildLayer]]
    var consumedArgs: Set<String>
}

/// The messages of a stage built beside others, kept until they can be shown in order.
actor MessageBuffer {
    private(set) var messages: [BuildMessage] = []

    func append(_ message: BuildMessage) {
        messages.append(message)
    }
}
