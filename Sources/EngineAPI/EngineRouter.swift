import Engine

/// The Docker Engine API routes Berth serves, over the engine's services.
public enum EngineRouter {
    public static func make(_ engine: EngineServices) -> Router {
        var router = Router()
        SystemRoutes(engine: engine).register(in: &router)
        ImageRoutes(engine: engine).register(in: &router)
        ExecRoutes(engine: engine).register(in: &router)
        ContainerRoutes(engine: engine).register(in: &router)
        VolumeRoutes(engine: engine).register(in: &router)
        NetworkRoutes(engine: engine).register(in: &router)
        EventRoutes(engine: engine).register(in: &router)
        ArchiveRoutes(engine: engine).register(in: &router)
        StatsRoutes(engine: engine).register(in: &router)
        PruneRoutes(engine: engine).register(in: &router)
        BuildRoutes(engine: engine).register(in: &router)
        return router
    }
}
