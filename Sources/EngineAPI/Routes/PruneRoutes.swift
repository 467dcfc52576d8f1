import BerthSystem
import Engine
import NIOHTTP1

/// `POST /containers/prune`, `/images/prune`, `/build/prune` and
/// `GET /system/df`: housekeeping as docker's `prune` and `system df` commands use it.
struct PruneRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let containers = engine.containers
        let images = engine.images
        let volumes = engine.volumes
        router.add(.POST, "/containers/prune") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["until", "label", "label!"]).first { throw APIError.badRequest("invalid filter '\(unknown)'") }
            let until = try filters.values("until").flatMap(\.first).map { try ListFilters.instant($0, key: "until") }
            let pruned = await containers.prune { record in
                (until.map { record.created < $0 } ?? true) && Self.labels(record.spec.labels, filters)
            }
            return .json(.ok, ContainerPruneBody(ContainersDeleted: pruned.ids.isEmpty ? nil : pruned.ids, SpaceReclaimed: pruned.reclaimed))
        }
        router.add(.POST, "/images/prune") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["dangling", "until", "label", "label!"]).first { throw APIError.badRequest("invalid filter '\(unknown)'") }
            let dangling = try filters.values("dangling").flatMap(\.first).map { try ListFilters.boolean($0, key: "dangling") } ?? true
            let until = try filters.values("until").flatMap(\.first).map { try ListFilters.instant($0, key: "until") }
            let pruned = await images.prune(all: !dangling, include: { record, _ in
                guard until.map({ record.created < $0 }) ?? true else { return false }
                let labels = (try? await images.config(of: record))?.config?.Labels ?? [:]
                return Self.labels(labels, filters)
            }, user: { await containers.user(ofImage: $0) })
            let deleted: [[String: String]] = pruned.removals.map {
                switch $0 {
                case .untagged(let tag): return ["Untagged": tag]
                case .deleted(let id): return ["Deleted": id.description]
                }
            }
            return .json(.ok, ImagePruneBody(ImagesDeleted: deleted.isEmpty ? nil : deleted, SpaceReclaimed: pruned.reclaimed))
        }
        router.add(.POST, "/build/prune") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["until"]).first { throw APIError.badRequest("invalid filter '\(unknown)'") }
            let until = try filters.values("until").flatMap(\.first).map { try ListFilters.instant($0, key: "until") }
            let pruned = await images.pruneBuildCache(all: request.flag("all"), olderThan: until)
            return .json(.ok, BuildPruneBody(CachesDeleted: Nullable(pruned.ids.isEmpty ? nil : pruned.ids),
                                             SpaceReclaimed: pruned.reclaimed))
        }
        router.add(.GET, "/system/df") { _, _ in
            let all = await containers.list(all: true)
            var imageRows: [DiskUsageBody.ImageRow] = []
            var layers: [String: Int64] = [:]
            for (record, tags) in await images.list() {
                let size = await images.size(of: record)
                for layer in (try? await images.manifest(of: record))?.layers ?? [] { layers[layer.digest.description] = layer.size }
                imageRows.append(.init(Id: record.id.description, RepoTags: tags, Created: record.created.seconds, Size: size, VirtualSize: size,
                                       Containers: all.filter { $0.image == record.id }.count))
            }
            var containerRows: [DiskUsageBody.ContainerRow] = []
            let now = Timestamp.now()
            for record in all {
                var row = DiskUsageBody.ContainerRow(ContainerSummary(record, now: now))
                row.SizeRw = await containers.writableLayerSize(record.id)
                containerRows.append(row)
            }
            var volumeRows: [DiskUsageBody.VolumeRow] = []
            for volume in await volumes.list() {
                volumeRows.append(.init(volume, mountpoint: volumes.mountpoint(of: volume.name), size: await volumes.size(of: volume.name),
                                        references: await volumes.users(of: volume.name).count))
            }
            let cache = await images.buildCacheRecords().map { record in
                DiskUsageBody.BuildCacheRow(ID: record.id, Shared: record.shared, Size: record.size, CreatedAt: record.created,
                                            LastUsedAt: record.lastUsed.rfc3339Nano)
            }
            return .json(.ok, DiskUsageBody(LayersSize: layers.values.reduce(0, +), Images: imageRows, Containers: containerRows, Volumes: volumeRows,
                                            BuildCache: cache))
        }
    }

    /// `label` (all must match) and `label!` (none may) filters over `labels`.
    static func labels(_ labels: [String: String], _ filters: ListFilters) -> Bool {
        (filters.values("label") ?? []).allSatisfy { ListFilters.label($0, in: labels) }
            && !(filters.values("label!") ?? []).contains { ListFilters.label($0, in: labels) }
    }
}

struct ContainerPruneBody: Encodable {
    var ContainersDeleted: Nullable<[String]>
    var SpaceReclaimed: Int64

    init(ContainersDeleted: [String]?, SpaceReclaimed: Int64) {
        self.ContainersDeleted = Nullable(ContainersDeleted)
        self.SpaceReclaimed = SpaceReclaimed
    }
}

struct ImagePruneBody: Encodable {
    var ImagesDeleted: Nullable<[[String: String]]>
    var SpaceReclaimed: Int64

    init(ImagesDeleted: [[String: String]]?, SpaceReclaimed: Int64) {
        self.ImagesDeleted = Nullable(ImagesDeleted)
        self.SpaceReclaimed = SpaceReclaimed
    }
}

struct NetworkPruneBody: Encodable {
    var NetworksDeleted: Nullable<[String]>
}

struct BuildPruneBody: Encodable {
    var CachesDeleted = Nullable<[String]>(nil)
    var SpaceReclaimed: Int64 = 0
}

/// A value that is written as JSON `null` when absent (where docker sends `null` rather than
/// leaving the key out, and clients index it).
struct Nullable<Value: Encodable>: Encodable {
    let value: Value?

    init(_ value: Value?) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

/// `GET /system/df`.
struct DiskUsageBody: Encodable {
    struct ImageRow: Encodable {
        var Id: String
        var ParentId = ""
        var RepoTags: [String]
        var RepoDigests: [String] = []
        var Created: Int64
        var Size: Int64
        var SharedSize: Int64 = 0
        var VirtualSize: Int64
        var Labels: [String: String]? = nil
        var Containers: Int

        init(Id: String, RepoTags: [String], Created: Int64, Size: Int64, VirtualSize: Int64, Containers: Int) {
            self.Id = Id
            self.RepoTags = RepoTags
            self.Created = Created
            self.Size = Size
            self.VirtualSize = VirtualSize
            self.Containers = Containers
        }
    }

    struct ContainerRow: Encodable {
        var summary: ContainerSummary
        var SizeRw: Int64 = 0

        init(_ summary: ContainerSummary) { self.summary = summary }

        func encode(to encoder: Encoder) throws {
            try summary.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(SizeRw, forKey: .SizeRw)
            try c.encode(0 as Int64, forKey: .SizeRootFs)
        }

        enum Key: String, CodingKey { case SizeRw, SizeRootFs }
    }

    struct VolumeRow: Encodable {
        struct Usage: Encodable {
            var Size: Int64
            var RefCount: Int
        }
        var volume: VolumeBody
        var UsageData: Usage

        init(_ volume: Volume, mountpoint: String, size: Int64, references: Int) {
            self.volume = VolumeBody(volume, mountpoint: mountpoint)
            UsageData = Usage(Size: size, RefCount: references)
        }

        func encode(to encoder: Encoder) throws {
            try volume.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(UsageData, forKey: .UsageData)
        }

        enum Key: String, CodingKey { case UsageData }
    }

    var LayersSize: Int64
    var Images: [ImageRow]
    var Containers: [ContainerRow]
    var Volumes: [VolumeRow]
    var BuildCache: [BuildCacheRow]

    /// One cached build step holding a layer (docker's `BuildCache` record).
    struct BuildCacheRow: Encodable {
        var ID: String
        var `Type` = "regular"
        var Description = "a build step's layer"
        var InUse = false
        var Shared: Bool
        var Size: Int64
        var CreatedAt: String
        var LastUsedAt: String
        var UsageCount = 1
    }
}
