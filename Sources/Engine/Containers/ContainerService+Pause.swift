import OCI

extension ContainerService {
    /// `docker pause`: freezes every process of a running container (the runtime's freezer).
    /// Conflicts (409) with docker's words when it is not running or already paused. The
    /// record says `paused` before the call returns, and across daemon restarts.
    public func pause(_ reference: String) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            var record = try resolve(id)
            guard record.state.isRunning else { throw EngineError.conflict("Container \(record.id) is not running") }
            guard record.state.paused != true else { throw EngineError.conflict("Container \(record.id) is already paused") }
            try await runRuntime(record, ["pause", record.id], doing: "pause container \(record.id)")
            record.state.paused = true
            try update(record)
            publish("pause", record)
        }
    }

    /// `docker unpause`: thaws a paused container. Conflicts (409) when it is not paused.
    public func unpause(_ reference: String) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            var record = try resolve(id)
            guard record.state.isRunning, record.state.paused == true else {
                throw EngineError.conflict("Container \(record.id) is not paused")
            }
            try await runRuntime(record, ["resume", record.id], doing: "unpause container \(record.id)")
            record.state.paused = nil
            try update(record)
            publish("unpause", record)
        }
    }

    /// A paused container's processes act on a signal only once thawed: after `kill` has
    /// queued one, the container is resumed, as dockerd does.
    func resumeAfterSignal(_ id: String) async {
        guard var record = containers[id], record.state.isRunning, record.state.paused == true else { return }
        guard (try? await runRuntime(record, ["resume", record.id], doing: "resume")) != nil else { return }
        record.state.paused = nil
        try? update(record)
    }

    /// `docker rename`: gives a container a new name (running or not; its hostname stays).
    public func rename(_ reference: String, to requested: String) throws {
        var record = try resolve(reference)
        let bare = requested.hasPrefix("/") ? String(requested.dropFirst()) : requested
        guard !bare.isEmpty else { throw EngineError.invalidParameter("Neither old nor new names may be empty") }
        let name = try ContainerNames.validate(bare)
        guard name != record.name else {
            throw EngineError.invalidParameter("Renaming a container with the same name as its current name")
        }
        if let holder = containers.values.first(where: { $0.name == name }) {
            throw EngineError.nameInUse(name: name, id: holder.id)
        }
        let oldName = record.name
        record.name = name
        try update(record)
        publish("rename", record, ["oldName": "/" + oldName])
    }
}
