import BerthSystem
import Glibc
import LayerArchive
import OCI
import Snapshots

extension ContainerService {
    /// `docker diff`: what the container changed in its filesystem, from its writable layer.
    public func changes(_ reference: String) throws -> [Change] {
        let record = try resolve(reference)
        return try snapshots.changes(container: record.id)
    }

    /// `docker top`: `ps` run on the host with `psArgs` (docker's default `-ef`), keeping the
    /// rows of processes in the container's PID namespace.
    public func top(_ reference: String, psArgs: String?) async throws -> (titles: [String], processes: [[String]]) {
        let record = try resolve(reference)
        guard record.state.isRunning, record.state.pid > 0 else {
            throw EngineError.notRunning(record.id)
        }
        let pids = Self.processes(inPIDNamespaceOf: record.state.pid)
        let args = (psArgs ?? "-ef").split(separator: " ").map(String.init)
        let result = try await ProcessRunner.run(["/usr/bin/ps"] + args)
        guard result.status == 0 else { throw EngineError.failure("ps failed: \(result.stderrText)") }
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        guard let header = lines.first else { throw EngineError.failure("ps printed nothing") }
        let titles = header.split(separator: " ").map(String.init)
        guard let pidColumn = titles.firstIndex(of: "PID") else {
            throw EngineError.invalidParameter("Couldn't find PID field in ps output")
        }
        var processes: [[String]] = []
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", maxSplits: titles.count - 1).map(String.init)
            guard fields.count > pidColumn, let pid = Int32(fields[pidColumn]), pids.contains(pid) else { continue }
            processes.append(fields)
        }
        return (titles, processes)
    }

    /// Runs `<runtime> --root … arguments`; a failure names what was being done.
    func runRuntime(_ record: ContainerRecord, _ arguments: [String], doing operation: String) async throws {
        let result = try await tasks.runRuntime(record.runtime, arguments)
        guard result.status == 0 else { throw EngineError.failure("cannot \(operation): \(result.stderrText)") }
    }

    /// Every host PID whose PID namespace is the one `pid` lives in.
    static func processes(inPIDNamespaceOf pid: Int32) -> Set<Int32> {
        func namespace(_ p: String) -> String? {
            var buffer = [CChar](repeating: 0, count: 64)
            let n = readlink("/proc/\(p)/ns/pid", &buffer, buffer.count - 1)
            return n > 0 ? String(cString: buffer) : nil
        }
        guard let target = namespace(String(pid)) else { return [] }
        var result: Set<Int32> = []
        for entry in FileSystem.listDirectory("/proc") {
            if let p = Int32(entry), namespace(entry) == target { result.insert(p) }
        }
        return result
    }

    /// `docker commit`: the container's writable layer as a new layer on top of its image, with
    /// the container's configuration (plus `changes`) as the new image's defaults. A running
    /// container is frozen while its layer is read (`pause`, docker's default), so it cannot
    /// change files under the reader; either way the layer is read off the service actor and
    /// without ever blocking on, following or reading through what the container planted.
    public func commit(_ reference: String, repository: String?, tag: String?, author: String?, comment: String?, changes: [String],
                       pause: Bool = true) async throws -> Digest {
        let id = try resolve(reference).id
        return try await exclusively(id) {
            try await commitLocked(id, repository: repository, tag: tag, author: author, comment: comment, changes: changes, pause: pause)
        }
    }

    private func commitLocked(_ id: String, repository: String?, tag: String?, author: String?, comment: String?, changes: [String],
                              pause: Bool) async throws -> Digest {
        let record = try resolve(id)
        let image = try await images.resolve(record.image.description)
        let parentConfig = try await images.config(of: image)
        let parentManifest = try await images.manifest(of: image)
        var target: [Reference] = []
        if let repository, !repository.isEmpty {
            do {
                target = [try Reference(parsing: tag.map { $0.isEmpty ? repository : "\(repository):\($0)" } ?? repository)]
            } catch {
                throw EngineError.invalidParameter("\(error)")
            }
        }
        let staging = try await images.makeTemporaryDirectory("commit")
        defer { try? FileSystem.removeTree(staging) }
        let upper = snapshots.upperDirectory(container: record.id)
        // An already paused container stays paused (and is not resumed after).
        let frozen = pause && record.state.isRunning && !record.state.isPaused
        if frozen { try await runRuntime(record, ["pause", record.id], doing: "pause the container for commit") }
        let outcome = await Task.detached { Result { try DiffWriter().writeLayer(fromUpper: upper, to: staging + "/layer.tar.gz", idMap: record.userNamespace) } }.value
        if frozen { try await runRuntime(record, ["resume", record.id], doing: "resume the container after commit") }
        let written = try outcome.get()
        try images.content.importFile(staging + "/layer.tar.gz", expected: written.digest, expectedSize: written.size)
        var defaults = parentConfig.config ?? ContainerDefaults()
        defaults.Env = record.spec.process.env
        defaults.Cmd = record.spec.process.cmd
        defaults.Entrypoint = record.spec.process.entrypoint
        defaults.WorkingDir = record.spec.process.workingDir.isEmpty ? nil : record.spec.process.workingDir
        defaults.User = record.spec.process.user.isEmpty ? nil : record.spec.process.user
        defaults.Labels = record.spec.labels
        defaults = try ConfigChanges.apply(changes, to: defaults)
        let now = Timestamp.now().rfc3339Nano
        var config = parentConfig
        config.config = defaults
        config.created = now
        config.author = author.flatMap { $0.isEmpty ? nil : $0 } ?? parentConfig.author
        config.rootfs.diff_ids.append(written.diffID)
        config.history = (parentConfig.history ?? []) + [History(created: now, createdBy: ([record.path] + record.args).joined(separator: " "), comment: comment)]
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: written.digest, size: written.size)
        let imageID = try await images.register(config: config, layers: parentManifest.layers + [layer], tags: target)
        publish("commit", record, ["comment": comment ?? "", "imageID": imageID.description])
        return imageID
    }
}
