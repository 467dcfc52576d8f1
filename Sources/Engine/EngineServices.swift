import BerthSystem
import ContentStore
import Snapshots

/// The engine's services, wired together once by `berthd` and shared by every API route.
public struct EngineServices: Sendable {
    public let configuration: EngineConfiguration
    public let images: ImageService
    public let containers: ContainerService
    /// Named and anonymous volumes.
    public let volumes: VolumeService
    /// The predefined and user-defined networks.
    public let networks: NetworkService
    /// What happens to containers, images and volumes (`docker events`).
    public let events: EventBus
    /// Restarts containers by their restart policies.
    public let supervisor: Supervisor
    /// Pulls images from registries into `images`.
    public let puller: ImagePuller
    /// Pushes images of `images` to registries.
    public let pusher: ImagePusher
    /// Lists and attaches artifacts that refer to images in registries.
    public let referrers: ImageReferrers
    /// Builds images from Dockerfiles.
    public let builder: ImageBuilder
    /// A stable ID for this engine (docker's `info.ID`), kept in `<root>/engine-id`.
    public let daemonID: String

    /// Creates the directory layout, opens the stores and reconciles containers left by a
    /// previous daemon.
    public static func start(_ configuration: EngineConfiguration) async throws -> EngineServices {
        var configuration = configuration
        try configuration.prepareDirectories()
        // Berth's own processes that enter containers run from read-only copies.
        var binaries = ["monitor": configuration.monitorPath]
        if let runtime = configuration.runtimes[EngineConfiguration.builtinRuntimeName] { binaries["runtime"] = runtime }
        let copies = try ProtectedBinaries.install(binaries, into: configuration.protectedBinariesRoot)
        configuration.monitorPath = copies["monitor"] ?? configuration.monitorPath
        if let runtime = copies["runtime"] { configuration.runtimes[EngineConfiguration.builtinRuntimeName] = runtime }
        BuildContextDirectory.removeStale(in: configuration.temporaryRoot)
        Trash.sweep(configuration.trashRoot)
        Trash.sweep(configuration.execTrashRoot)
        let content = try ContentStore(root: configuration.contentRoot)
        let snapshots = try OverlaySnapshotter(root: configuration.snapshotsRoot)
        try snapshots.removeTemporaryLayers()
        content.removeStaleIngests()
        let images = try ImageService(configuration: configuration, content: content, snapshots: snapshots)
        let remappedRoot = configuration.userNamespaceRemap.flatMap { remap in
            remap.map.hostRootUID.flatMap { uid in remap.map.hostRootGID.map { (uid: uid, gid: $0) } }
        }
        let events = EventBus()
        let volumes = try VolumeService(root: configuration.volumesRoot, trash: configuration.trashRoot, owner: remappedRoot, events: events)
        let networks = try NetworkService(root: configuration.networksRoot, sandboxRoot: configuration.networkNamespacesRoot,
                                          defaultBridge: configuration.defaultBridgeName, bridgeAddress: configuration.defaultBridgeAddress,
                                          bridgeIPv6: configuration.defaultBridgeIPv6,
                                          pools: configuration.defaultAddressPools, events: events)
        let containers = ContainerService(configuration: configuration, images: images, snapshots: snapshots, volumes: volumes, events: events,
                                          attachments: networks)
        await containers.loadAndReconcile()
        do {
            try await networks.prepareBridges()
        } catch {
            await containers.reportStartupProblem("networks: \(error)")
        }
        let supervisor = Supervisor(containers: containers)
        await supervisor.start()
        let idPath = configuration.root + "/engine-id"
        let id: String
        if let bytes = try? FileSystem.readFile(idPath), bytes.count == 64 {
            id = String(decoding: bytes, as: UTF8.self)
        } else {
            id = ContainerService.newID()
            try FileSystem.writeAtomically(idPath, bytes: Array(id.utf8))
        }
        let access = configuration.registryAccess
        let puller = ImagePuller(images: images, content: content, snapshots: snapshots, access: access)
        let pusher = ImagePusher(images: images, content: content, access: access)
        return EngineServices(configuration: configuration, images: images, containers: containers, volumes: volumes, networks: networks, events: events, supervisor: supervisor, puller: puller, pusher: pusher,
                              referrers: ImageReferrers(access: access),
                              builder: ImageBuilder(images: images, containers: containers, puller: puller,
                                                    cacheMountsRoot: configuration.buildCacheMountsRoot), daemonID: id)
    }
}

extension EngineServices {
    /// Publishes an image event (`pull`, `push`, `tag`, `untag`, `delete`, `import`, `load`,
    /// `save`) with docker's `name` attribute.
    public func publishImageEvent(_ action: String, id: String, name: String) {
        events.publish(EngineEvent(type: .image, action: action, actorID: id, attributes: ["name": name]))
    }
}
