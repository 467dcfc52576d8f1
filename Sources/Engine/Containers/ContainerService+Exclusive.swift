extension ContainerService {
    /// Runs `operation` once no other start, stop, restart, commit or remove of container `id`
    /// is in progress, and keeps the others waiting until it is done, in arrival order. The
    /// actor alone cannot promise this: it lets other calls in at every `await`.
    func exclusively<T>(_ id: String, _ operation: () async throws -> T) async throws -> T {
        if operationQueues[id] == nil {
            operationQueues[id] = []
        } else {
            // The turn is handed over by `release` (the queue stays while anyone holds it).
            await withCheckedContinuation { operationQueues[id, default: []].append($0) }
        }
        defer { release(id) }
        return try await operation()
    }

    private func release(_ id: String) {
        guard var queue = operationQueues[id], !queue.isEmpty else {
            operationQueues[id] = nil
            return
        }
        let next = queue.removeFirst()
        operationQueues[id] = queue
        next.resume()
    }
}
