#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import NIOHTTP1

/// `/volumes/...`: create, list, inspect, remove and prune named volumes (docker's `local`
/// driver).
struct VolumeRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let volumes = engine.volumes
        router.add(.POST, "/volumes/create") { request, _ in
            let body: CreateVolumeBody
            do {
                body = try JSONDecoder().decode(CreateVolumeBody.self, from: Data(request.body.allBytes()))
            } catch {
                throw APIError.badRequest("invalid JSON in the volume configuration: \(error)")
            }
            if let driver = body.Driver, !driver.isEmpty, driver != "local" {
                throw APIError.notFound("error looking up volume plugin \(driver): plugin \"\(driver)\" not found")
            }
            let volume = try await volumes.create(name: body.Name, labels: body.Labels ?? [:], options: body.DriverOpts ?? [:])
            return .json(.created, VolumeBody(volume, mountpoint: volumes.mountpoint(of: volume.name)))
        }
        router.add(.GET, "/volumes") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["dangling", "name", "label", "label!", "driver"]).first {
                throw APIError.badRequest("invalid filter '\(unknown)'")
            }
            for value in filters.values("dangling") ?? [] { _ = try ListFilters.boolean(value, key: "dangling") }
            var rows: [VolumeBody] = []
            for volume in await volumes.list() {
                let inUse = await !volumes.users(of: volume.name).isEmpty
                guard try Self.matches(volume, inUse: inUse, filters: filters) else { continue }
                rows.append(VolumeBody(volume, mountpoint: volumes.mountpoint(of: volume.name)))
            }
            return .json(.ok, VolumeListBody(Volumes: rows))
        }
        router.add(.GET, "/volumes/{name}") { _, params in
            let volume = try await volumes.inspect(params["name"] ?? "")
            return .json(.ok, VolumeBody(volume, mountpoint: volumes.mountpoint(of: volume.name)))
        }
        router.add(.DELETE, "/volumes/{name}") { request, params in
            try await volumes.remove(params["name"] ?? "", force: request.flag("force"))
            return .empty(.noContent)
        }
        router.add(.POST, "/volumes/prune") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["label", "label!", "all"]).first {
                throw APIError.badRequest("invalid filter '\(unknown)'")
            }
            for value in filters.values("all") ?? [] { _ = try ListFilters.boolean(value, key: "all") }
            // API 1.42 made prune take only anonymous volumes unless `all=true`.
            let all = filters.values("all").map { $0.contains { (try? ListFilters.boolean($0, key: "all")) == true } }
                ?? (request.version.map { $0 < APIVersion(major: 1, minor: 42) } ?? false)
            let pruned = await volumes.prune { volume in
                (all || volume.isAnonymous) && ((try? Self.matches(volume, inUse: false, filters: filters)) ?? false)
            }
            return .json(.ok, VolumePruneBody(VolumesDeleted: pruned.names.isEmpty ? nil : pruned.names, SpaceReclaimed: pruned.reclaimed))
        }
    }

    /// docker's volume filters: `dangling` (no container refers to it), `name` (substring),
    /// `label` / `label!` (`key` or `key=value`), `driver`.
    static func matches(_ volume: Volume, inUse: Bool, filters: ListFilters) throws -> Bool {
        if let wanted = filters.values("dangling"), !wanted.isEmpty {
            guard try wanted.contains(where: { try ListFilters.boolean($0, key: "dangling") == !inUse }) else { return false }
        }
        if let wanted = filters.values("name"), !wanted.isEmpty, !wanted.contains(where: { volume.name.contains($0) }) { return false }
        if let wanted = filters.values("driver"), !wanted.isEmpty, !wanted.contains("local") { return false }
        if let wanted = filters.values("label"), !wanted.allSatisfy({ ListFilters.label($0, in: volume.labels) }) { return false }
        if let unwanted = filters.values("label!"), unwanted.contains(where: { ListFilters.label($0, in: volume.labels) }) { return false }
        return true
    }
}

struct CreateVolumeBody: Decodable {
    var Name: String?
    var Driver: String?
    var DriverOpts: [String: String]?
    var Labels: [String: String]?
}

/// A volume as docker shows it; `Labels` and `Options` are `null` when empty, as docker's.
struct VolumeBody: Encodable {
    var CreatedAt: String
    var Driver = "local"
    var Labels: [String: String]?
    var Mountpoint: String
    var Name: String
    var Options: [String: String]?
    var Scope = "local"

    init(_ volume: Volume, mountpoint: String) {
        CreatedAt = volume.createdAt.rfc3339
        Labels = volume.labels.isEmpty ? nil : volume.labels
        Mountpoint = mountpoint
        Name = volume.name
        Options = volume.options.isEmpty ? nil : volume.options
    }

    enum CodingKeys: String, CodingKey { case CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(CreatedAt, forKey: .CreatedAt)
        try c.encode(Driver, forKey: .Driver)
        try c.encode(Labels, forKey: .Labels)
        try c.encode(Mountpoint, forKey: .Mountpoint)
        try c.encode(Name, forKey: .Name)
        try c.encode(Options, forKey: .Options)
        try c.encode(Scope, forKey: .Scope)
    }
}

struct VolumeListBody: Encodable {
    var Volumes: [VolumeBody]
    var Warnings: [String] = []
}

struct VolumePruneBody: Encodable {
    var VolumesDeleted: Nullable<[String]>
    var SpaceReclaimed: Int64

    init(VolumesDeleted: [String]?, SpaceReclaimed: Int64) {
        self.VolumesDeleted = Nullable(VolumesDeleted)
        self.SpaceReclaimed = SpaceReclaimed
    }
}
