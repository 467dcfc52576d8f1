import BerthSystem
import Builder
import Glibc
import OCI

extension BuildRun {
    /// `COPY` and `ADD`: sources from the context, a heredoc, an earlier stage or an image
    /// (`--from`), with `--chown` and `--chmod`; ADD also unpacks local tars. Cached by the
    /// content of what is copied, not its times.
    mutating func copy(_ instruction: Instruction, _ state: inout BuildState, env: [String: String], stage: Stage) async throws {
        let isAdd = instruction.keyword == "ADD"
        let (sources, requestedDestination) = try instruction.copyPaths(env: env, expander: expander)
        let isURL = { (source: String) in source.hasPrefix("http://") || source.hasPrefix("https://") }
        if !isAdd, let url = sources.first(where: isURL) {
            throw BuildError.dockerfile("source can't be a URL for COPY: \(url) (line \(instruction.line))")
        }
        if let git = sources.first(where: { $0.hasPrefix("git@") || $0.hasSuffix(".git") && isURL($0) }) {
            throw BuildError.unsupported("ADD of a git repository (\(git)) is not supported by this builder yet (line \(instruction.line))")
        }
        for flag in instruction.flags where !["from", "chown", "chmod", "link", "exclude", "parents"].contains(flag.name) {
            throw BuildError.unsupported("\(instruction.keyword) --\(flag.name) is not supported by this builder yet (line \(instruction.line))")
        }
        let excludes = try instruction.flagValues("exclude").map { try expander.expand($0, env: env) }
        let excluded = excludes.isEmpty ? nil : DockerIgnore(parsing: excludes.joined(separator: "\n"))
        let keepsParents = instruction.flag("parents").map { $0 != "false" } ?? false
        let chown = try instruction.flag("chown").map { try expander.expand($0, env: env) }
        let permissions = try instruction.flag("chmod").map { text -> mode_t in
            guard let mode = mode_t(text, radix: 8), mode <= 0o7777 else { throw BuildError.dockerfile("invalid chmod parameter: \(text)") }
            return mode
        }
        let workdir = state.defaults.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let destination = Paths.clean(requestedDestination.hasPrefix("/") ? requestedDestination : workdir + "/" + requestedDestination)
        let destinationNamesDirectory = requestedDestination.hasSuffix("/") || requestedDestination.hasSuffix("/.") || destination == "/"
            || requestedDestination == "."

        let heredocs = sources.filter { $0.hasPrefix("<<") }
        let urls = sources.filter(isURL)
        let paths = sources.filter { !$0.hasPrefix("<<") && !isURL($0) }
        let staging = try await builder.images.makeTemporaryDirectory("build-copy")
        defer { try? FileSystem.removeTree(staging) }
        var generated = try writeHeredocs(heredocs, of: instruction, env: env, into: staging)
        for (index, url) in urls.enumerated() {
            generated.append(try await URLDownload.fetch(url, into: staging + "/url-\(index)", fallbackName: Paths.components(requestedDestination).last))
        }

        let heredocItems = generated
        let from = try instruction.flag("from").map { try expander.expand($0, env: env) }
        let source = try await sourceTree(from, stage: stage)
        do {
            let selection = SourceSelection(paths: paths, extraItems: heredocItems, excluded: excluded, keepsParents: keepsParents,
                                            unpacking: isAdd && from == nil, keepsOwners: from != nil)
            try await copy(from: source, selection, instruction, &state, destination: destination, written: requestedDestination,
                           destinationNamesDirectory: destinationNamesDirectory || keepsParents, chown: chown, permissions: permissions, staging: staging)
            await source.close()
        } catch {
            await source.close()
            throw error
        }
    }

    private mutating func copy(from source: SourceTree, _ selection: SourceSelection, _ instruction: Instruction, _ state: inout BuildState,
                               destination: String, written: String, destinationNamesDirectory: Bool, chown: String?, permissions: mode_t?,
                               staging: String) async throws {
        let name = instruction.keyword
        let (hash, kind) = try await source.read { root in
            let sources = try selection.sources(in: root, instruction: name)
            let kind = sources.items.count > 1 ? "multi" : sources.items.first?.isDirectory == true ? "dir" : "file"
            return (try sources.contentDigest(), kind)
        }
        // docker's classic text, `--chown=…` run into the source as docker writes it.
        let owner = chown.map { "--chown=\($0)" } ?? ""
        let createdBy = state.instructions.shell.joined(separator: " ") + " #(nop) \(name) \(owner)\(kind):\(hash) in \(written) "
        let key = state.key(of: "\(name) \(hash) from=\(source.identity) chown=\(chown ?? "") chmod=\(permissions.map { String($0, radix: 8) } ?? "") to=\(destination) named-dir=\(destinationNamesDirectory)")
        let run = self
        try await commitLayer(&state, key: key, createdBy: createdBy) { state in
            try await run.withStepContainer(state, note: "\(name) \(kind):\(hash) in \(destination)") { id in
                let isDirectory = try await destinationNamesDirectory ? true : run.builder.containers.isDirectory(id, path: destination)
                let archives = try await source.read { root in
                    let sources = try selection.sources(in: root, instruction: name)
                    if sources.items.count > 1 && !isDirectory {
                        throw BuildError.dockerfile("When using \(name) with more than one source file, the destination must be a directory and end with a /")
                    }
                    return try sources.archives(into: staging, destination: destination, destinationIsDirectory: isDirectory || sources.items.count > 1)
                }
                try await run.builder.containers.unpackBuildContent(id, archives, chown: chown, permissions: permissions)
                return try await run.builder.containers.buildLayer(id)
            }
        }
    }

    /// Writes each `<<NAME` source's heredoc (expanded unless its delimiter was quoted) as a
    /// file named NAME under `staging`.
    private func writeHeredocs(_ names: [String], of instruction: Instruction, env: [String: String], into staging: String) throws -> [BuildSources.Item] {
        try names.map { marker in
            let name = String(marker.drop { $0 == "<" || $0 == "-" }).trimmingQuotes
            guard let heredoc = instruction.heredocs.first(where: { $0.name == name }) else {
                throw BuildError.dockerfile("dockerfile parse error on line \(instruction.line): no heredoc named \(name)")
            }
            let content = heredoc.expands ? try expander.expandHeredoc(heredoc.content, env: env) : heredoc.content
            let directory = staging + "/heredoc-" + String(instruction.heredocs.firstIndex(of: heredoc) ?? 0)
            try FileSystem.makeDirectories(directory, mode: 0o755)
            let path = directory + "/" + name
            try FileSystem.writeAtomically(path, bytes: Array(content.utf8), mode: 0o644, durable: false)
            return BuildSources.Item(hostPath: path, name: name, isDirectory: false)
        }
    }

    /// The tree `--from` names: the context (none given), an earlier stage's result, or an
    /// image (pulled when missing).
    mutating func sourceTree(_ from: String?, stage: Stage) async throws -> SourceTree {
        guard let from else { return SourceTree(identity: "context", root: context.directory, container: nil, containers: builder.containers) }
        let state: BuildState
        if let earlier = stageReference(from, before: stage.index), let result = stageResults[earlier.index] {
            state = result
        } else if Int(from) != nil {
            throw BuildError.dockerfile("invalid from flag value \(from): refers to current or future build stage")
        } else {
            state = try await baseStateForCopy(from)
        }
        var spec = ContainerSpec()
        spec.image = state.baseImage?.description ?? "scratch"
        spec.process.entrypoint = []
        spec.process.cmd = ["/bin/sh", "-c", "#(nop) COPY --from"]
        spec.network.mode = "none"
        let id = try await builder.containers.createBuildContainer(spec: spec, base: try base(of: state))
        return SourceTree(identity: state.cacheKey, root: nil, container: id, containers: builder.containers)
    }

    private mutating func baseStateForCopy(_ name: String) async throws -> BuildState {
        let images = builder.images
        if (try? await images.resolve(name)) == nil {
            guard let reference = try? Reference(parsing: name) else { throw BuildError.dockerfile("invalid from flag value \(name)") }
            do {
                let resolved = try await builder.puller.resolve(reference, platform: nil, credentials: nil)
                _ = try await builder.puller.complete(resolved) { _ in }
            } catch {
                throw BuildError.dockerfile("invalid from flag value \(name): \(error)")
            }
        }
        let record = try await images.resolve(name)
        let config = try await images.config(of: record)
        let manifest = try await images.manifest(of: record)
        let layers = zip(manifest.layers, config.rootfs.diff_ids).map { BuildLayer(descriptor: $0, diffID: $1) }
        let chains = try await images.unpackPinned(layers)
        pinned.append(layers)
        return BuildState(baseImage: record.id, layers: layers, chainID: chains.last, config: config, cacheKey: "from " + record.id.description,
                          instructions: ConfigInstructions(expander: expander))
    }
}

/// What a COPY takes: patterns matched in its tree, files it made itself (heredocs,
/// downloads), and how they are filtered and named.
struct SourceSelection: Sendable {
    var paths: [String]
    var extraItems: [BuildSources.Item]
    var excluded: DockerIgnore?
    var keepsParents: Bool
    var unpacking: Bool
    var keepsOwners: Bool

    func sources(in root: String, instruction: String) throws -> BuildSources {
        let matched = paths.isEmpty ? [] : try BuildSources(root: root, patterns: paths, instruction: instruction, unpacking: unpacking).items
        var sources = BuildSources(items: matched + extraItems)
        sources.excluded = excluded
        sources.keepsParents = keepsParents
        sources.keepsOwners = keepsOwners
        return sources
    }
}

/// Where a COPY reads its sources: a directory (the context), or the root of a container made
/// over a stage or image, mounted for each read and removed by `close`.
struct SourceTree: Sendable {
    /// What the tree is, for the cache key (a stage's cache key or an image ID).
    let identity: String
    let root: String?
    let container: String?
    let containers: ContainerService

    /// Runs `body` over the tree's root directory.
    func read<T: Sendable>(_ body: @escaping @Sendable (String) throws -> T) async throws -> T {
        if let root { return try body(root) }
        guard let container else { throw EngineError.failure("a build source has neither a directory nor a container") }
        return try await containers.withFiles(container) { files, _ in try body(files.rootfs) }
    }

    func close() async {
        if let container { try? await containers.remove(container, force: true, volumes: true) }
    }
}

extension String {
    /// Without one pair of surrounding quotes (`'EOF'`, `"EOF"`).
    var trimmingQuotes: String {
        guard count >= 2, let first, let last, first == last, first == "\"" || first == "'" else { return self }
        return String(dropFirst().dropLast())
    }
}
