import OCI

/// An image named by `--cache-from`: its history and layers, which serve as a step's result
/// when the build so far is that image's own beginning. docker's classic builder's rule: the
/// same diff IDs and the same history entries up to the step, and the step's text as the
/// image's next history entry (`created_by`). So an image built once (here or on another
/// machine, then pulled or loaded) makes the same build cached where no local cache exists.
struct CacheSource: Sendable {
    let history: [History]
    let layers: [BuildLayer]

    /// The history entry and, when it made one, the layer that stand for a step written
    /// `createdBy` over `state`; nil when this image does not continue `state` with that step.
    func match(_ state: BuildState, createdBy: String) -> (history: History, layer: BuildLayer?)? {
        let done = state.config.history ?? []
        guard history.count > done.count, Array(history.prefix(done.count)) == done,
              layers.count >= state.layers.count,
              zip(layers, state.layers).allSatisfy({ $0.diffID == $1.diffID }) else { return nil }
        let next = history[done.count]
        guard next.created_by == createdBy else { return nil }
        if next.empty_layer == true { return (next, nil) }
        guard layers.count > state.layers.count else { return nil }
        return (next, layers[state.layers.count])
    }
}
