#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Builder
import ContentDigest
import Glibc
import OCI

extension BuildRun {
    /// `RUN`: the command in a container over the state (its environment with the ARGs in
    /// scope, user and working directory); its output streamed as it comes; its changes, once
    /// it exited 0, the step's layer.
    mutating func run(_ instruction: Instruction, _ state: inout BuildState, stage: Stage) async throws {
        let mounts = try instruction.flagValues("mount").map(RunMount.init(parsing:))
        for flag in instruction.flags where !["mount", "network", "security"].contains(flag.name) {
            throw BuildError.dockerfile("dockerfile parse error on line \(instruction.line): unknown flag: --\(flag.name)")
        }
        let command = runCommand(instruction, state)
        let environment = state.environment
        let argEnv = state.args.filter { environment[$0.key] == nil }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let createdBy = (argEnv.isEmpty ? "" : "|\(argEnv.count) " + argEnv.joined(separator: " ") + " ") + command.joined(separator: " ")
        let network = instruction.flag("network") ?? options.networkMode
        switch network {
        case "", "default", "none", "host": break
        default: throw BuildError.dockerfile("unsupported network mode for RUN: \(network) (line \(instruction.line))")
        }
        // Stages and images bind mounts read from, by the mount's index; removed at the end.
        var trees: [Int: SourceTree] = [:]
        do {
            var mountKeys: [String] = []
            for (index, mount) in mounts.enumerated() {
                mountKeys.append(mount.keyText)
                if mount.kind == .bind {
                    if let from = mount.from {
                        let tree = try await sourceTree(try expander.expand(from, env: state.expansionEnvironment), stage: stage)
                        trees[index] = tree
                        // A stage or image is known by its cache key or ID: the same one, the same files.
                        mountKeys.append(tree.identity)
                    } else {
                        let source = mount.source.isEmpty ? "." : mount.source
                        mountKeys.append(try BuildSources(root: context.directory, patterns: [source], instruction: "RUN --mount").contentDigest())
                    }
                }
                if mount.kind == .secret, mount.required, options.secrets[mount.id] == nil {
                    throw BuildError.dockerfile("secret \(mount.id) not found: give it with --secret id=\(mount.id),src=FILE")
                }
            }
            let key = state.key(of: "run \(ConfigInstructions.json(command)) args=\(argEnv) network=\(network) mounts=\(mountKeys)")
            // Proxy variables reach the command without a declaration, but neither the history nor
            // the cache key (docker's predefined ARGs).
            let proxies = options.buildArgs.compactMap { name, value -> String? in
                guard Self.predefinedArgs.contains(name), let value, environment[name] == nil, state.args[name] == nil else { return nil }
                return "\(name)=\(value)"
            }.sorted()
            let run = self
            let sources = trees
            try await commitLayer(&state, key: key, createdBy: createdBy) { state in
                try await run.runContainer(command, env: argEnv + proxies, network: network, mounts: mounts, sources: sources, over: state)
            }
        } catch {
            for tree in trees.values { await tree.close() }
            throw error
        }
        for tree in trees.values { await tree.close() }
    }

    /// The command a RUN runs: the exec form as written; the shell form (and a heredoc script)
    /// through SHELL.
    private func runCommand(_ instruction: Instruction, _ state: BuildState) -> [String] {
        let arguments = instruction.arguments.trimmed
        if let only = instruction.heredocs.first, instruction.heredocs.count == 1, arguments.hasPrefix("<<"), !arguments.contains(" ") {
            // `RUN <<EOF`: the heredoc is the script.
            return state.instructions.shell + [only.content]
        }
        if !instruction.heredocs.isEmpty {
            let bodies = instruction.heredocs.map { $0.content + $0.name + "\n" }.joined()
            return state.instructions.shell + [instruction.arguments + "\n" + bodies]
        }
        switch instruction.command {
        case .exec(let words): return words
        case .shell(let text): return state.instructions.shell + [text]
        }
    }

    private func runContainer(_ command: [String], env: [String], network: String, mounts: [RunMount], sources: [Int: SourceTree],
                              over state: BuildState) async throws -> BuildLayer? {
        let containers = builder.containers
        var spec = ContainerSpec()
        spec.image = state.baseImage?.description ?? "scratch"
        spec.process.entrypoint = []
        spec.process.cmd = command
        spec.process.env = env
        spec.network.mode = network == "default" ? "" : network
        spec.network.extraHosts = options.extraHosts
        spec.resources.shmSize = options.shmSize
        // Mount points the engine and the runtime make for run mounts are not part of the
        // step's layer: what the state's root lacks is removed after the run when left empty.
        let points = Set(mounts.flatMap { Self.prefixes(of: $0.target) })
        let existing = points.isEmpty ? [] : try await withStepContainer(state, note: "RUN --mount") { id in
            try await containers.existingPaths(id, Array(points))
        }
        let staging = try await builder.images.makeTemporaryDirectory("build-run")
        defer { try? FileSystem.removeTree(staging) }
        var mounted: [String] = []
        defer { for id in mounted { containers.unmountBuildRoot(id) } }
        for (index, mount) in mounts.enumerated() {
            switch mount.kind {
            case .bind:
                var root = context.directory
                if let tree = sources[index], let source = tree.container {
                    root = try containers.mountBuildRoot(source)
                    mounted.append(source)
                }
                // Resolved inside its tree: a link there cannot make the step see a host path.
                let location = try ContainerFiles(rootfs: root, mounts: [], readOnlyRootfs: true)
                    .resolve(mount.source.isEmpty ? "/" : mount.source, followFinal: true)
                spec.storage.binds.append(([location.root] + location.relative).joined(separator: "/") + ":" + mount.target + (mount.readOnly ? ":ro" : ""))
            case .cache:
                let directory = builder.cacheMountsRoot + "/" + Digest.sha256(of: Array(mount.id.utf8)).encoded
                if !FileSystem.exists(directory) {
                    try FileSystem.makeDirectories(directory, mode: mount.mode ?? 0o755)
                    _ = chown(directory, mount.uid ?? 0, mount.gid ?? 0)
                }
                spec.storage.binds.append(directory + ":" + mount.target + (mount.readOnly ? ":ro" : ""))
            case .tmpfs:
                spec.storage.tmpfs[mount.target] = mount.size.map { "size=\($0)" } ?? ""
            case .secret:
                guard let content = options.secrets[mount.id] else { continue }
                let file = "\(staging)/secret-\(index)"
                try FileSystem.writeAtomically(file, bytes: content, mode: mount.mode ?? 0o400, durable: false)
                _ = chown(file, mount.uid ?? 0, mount.gid ?? 0)
                spec.storage.binds.append(file + ":" + mount.target + ":ro")
            }
        }
        let id = try await containers.createBuildContainer(spec: spec, base: try base(of: state))
        await emit(.stream(" ---> Running in \(id.prefix(12))\n"))
        let status: Int32
        do {
            try await containers.start(id)
            status = try await followOutput(id)
            await containers.removeMountPoints(id, points.subtracting(existing).sorted())
        } catch {
            try? await containers.remove(id, force: true, volumes: true)
            throw error
        }
        guard status == 0 else {
            if options.forceRemove {
                try? await containers.remove(id, force: true, volumes: true)
                await emit(.stream("Removing intermediate container \(id.prefix(12))\n"))
            }
            throw BuildError.commandFailed(command: command.joined(separator: " "), status: status)
        }
        // A command that changed no file adds no layer (docker records an empty one as such).
        let layer = try await containers.buildLayer(id)
        if options.removeIntermediate || options.forceRemove {
            try await containers.remove(id, force: true, volumes: true)
            await emit(.stream("Removing intermediate container \(id.prefix(12))\n"))
        }
        return layer
    }

    /// `/a`, `/a/b`, `/a/b/c` for `/a/b/c`.
    static func prefixes(of path: String) -> [String] {
        let components = Paths.components(path)
        return components.indices.map { "/" + components[...$0].joined(separator: "/") }
    }

    /// Streams the container's output (its json-file log, read as it grows) until it exits;
    /// answers its exit status.
    private func followOutput(_ id: String) async throws -> Int32 {
        let containers = builder.containers
        let path = await containers.logPath(of: id)
        var reader = LogTail(path: path)
        while true {
            let result = try await containers.wait(id, condition: .notRunning, timeoutNanoseconds: 50_000_000)
            for text in reader.next() { await emit(.stream(text)) }
            if let result { return result.statusCode }
        }
    }
}

/// Reads the entries a json-file log gained since the last read (whole lines only).
struct LogTail {
    let path: String
    private var offset: Int64 = 0
    private var partial: [UInt8] = []

    init(path: String) {
        self.path = path
    }

    private struct Entry: Decodable {
        var log: String
    }

    /// The text of each complete entry written since the last call.
    mutating func next() -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var texts: [String] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard n > 0 else { break }
            offset += Int64(n)
            partial += buffer[0..<n]
            while let newline = partial.firstIndex(of: 0x0a) {
                let line = Array(partial[..<newline])
                partial.removeSubrange(...newline)
                if let entry = try? JSONDecoder().decode(Entry.self, from: Data(line)) { texts.append(entry.log) }
            }
        }
        return texts
    }
}
