#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import Glibc
import NIOHTTP1
import OCI

/// `/images/...` and `/commit`: list, inspect, history, tag, remove, import, load, save, commit.
struct ImageRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let images = engine.images
        let containers = engine.containers
        router.add(.GET, "/images/json") { request, _ in
            let filters = try ListFilters(request.query("filters") ?? request.query("filter").map { #"{"reference":{"\#($0)":true}}"# })
            if let unknown = filters.unsupportedKeys(["reference", "dangling", "label", "label!", "before", "since", "until"]).first {
                throw APIError.badRequest("invalid filter '\(unknown)'")
            }
            for value in filters.values("dangling") ?? [] { _ = try ListFilters.boolean(value, key: "dangling") }
            // `before`/`since` name an image; `until` is a time.
            let before = try await filters.values("before").flatMap(\.first).asyncMap { try await resolveImage($0).created }
            let since = try await filters.values("since").flatMap(\.first).asyncMap { try await resolveImage($0).created }
            let until = try filters.values("until").flatMap(\.first).map { try ListFilters.instant($0, key: "until") }
            var summaries: [ImageSummary] = []
            for (record, allTags) in await images.list() where Self.matches(tags: allTags, filters) {
                if let before, record.created >= before { continue }
                if let since, record.created <= since { continue }
                if let until, record.created >= until { continue }
                let config = try? await images.config(of: record)
                guard PruneRoutes.labels(config?.config?.Labels ?? [:], filters) else { continue }
                // With a reference filter docker lists only the matching tags.
                let tags = filters.values("reference") == nil ? allTags : allTags.filter { Self.matches(tags: [$0], filters) }
                let size = await images.size(of: record)
                let labels = config?.config?.Labels
                summaries.append(ImageSummary(Id: record.id.description, RepoTags: tags, Created: record.created.seconds, Size: size, VirtualSize: size, Labels: labels))
            }
            return .json(.ok, summaries)
        }
        router.add(.GET, "/images/{name*}/json") { _, params in
            let record = try await resolveImage(params["name"] ?? "")
            return .json(.ok, try await inspect(record))
        }
        router.add(.GET, "/images/{name*}/history") { _, params in
            let record = try await resolveImage(params["name"] ?? "")
            let config = try await images.config(of: record)
            var layerSizes = await images.layerSizes(of: record).makeIterator()
            var rows: [HistoryRow] = []
            for step in config.history ?? [] {
                let size = step.empty_layer == true ? 0 : (layerSizes.next() ?? 0)
                rows.append(HistoryRow(Id: "<missing>", Created: step.created.flatMap(Timestamp.init(rfc3339:))?.seconds ?? 0, CreatedBy: step.created_by ?? "", Tags: nil, Size: size, Comment: step.comment ?? ""))
            }
            rows.reverse()
            if !rows.isEmpty {
                rows[0].Id = record.id.description
                rows[0].Tags = await images.tags(of: record.id)
            }
            return .json(.ok, rows)
        }
        router.add(.POST, "/images/{name*}/tag") { request, params in
            guard let repo = request.query("repo"), !repo.isEmpty else { throw APIError.badRequest("repository name must have at least one component") }
            let tag = request.query("tag").flatMap { $0.isEmpty ? nil : $0 }
            let target = tag.map { "\(repo):\($0)" } ?? repo
            try await images.tag(params["name"] ?? "", as: target)
            let id = try await images.resolve(target).id
            engine.publishImageEvent("tag", id: id.description, name: (try? Reference(parsing: target).familiar) ?? target)
            return .empty(.created)
        }
        router.add(.DELETE, "/images/{name*}") { request, params in
            let removals = try await images.remove(params["name"] ?? "", force: request.flag("force")) { id in
                await containers.user(ofImage: id)
            }
            let body: [[String: String]] = removals.map {
                switch $0 {
                case .untagged(let tag): return ["Untagged": tag]
                case .deleted(let id): return ["Deleted": id.description]
                }
            }
            for removal in removals {
                switch removal {
                case .untagged(let tag): engine.publishImageEvent("untag", id: tag, name: tag)
                case .deleted(let id): engine.publishImageEvent("delete", id: id.description, name: id.description)
                }
            }
            return .json(.ok, body)
        }
        let registry = RegistryRoutes(engine: engine)
        router.add(.POST, "/images/create") { request, _ in
            if request.query("fromSrc") != nil { return try importImage(request) }
            return try await registry.pull(request)
        }
        router.add(.POST, "/auth") { request, _ in try await registry.login(request) }
        router.add(.POST, "/images/{name*}/push") { request, params in try await registry.push(request, name: params["name"] ?? "") }
        router.add(.GET, "/distribution/{name*}/referrers") { request, params in try await registry.referrers(request, name: params["name"] ?? "") }
        router.add(.POST, "/distribution/{name*}/referrers") { request, params in try await registry.attach(request, name: params["name"] ?? "") }
        router.add(.POST, "/images/load") { request, _ in
            guard let lines = try await request.body.withFile(in: engine.configuration.temporaryRoot, { path in
                try await images.load(archivePath: path)
            }) else {
                throw APIError.badRequest("the request has no image archive in its body")
            }
            for line in lines { engine.publishImageEvent("load", id: line, name: line) }
            return .stream(.ok, contentType: "application/json") { writer in
                for line in lines { try await writer.writeJSON(["stream": line + "\n"]) }
            }
        }
        router.add(.GET, "/images/get") { request, _ in try await save(request.query["names"] ?? [], request) }
        router.add(.GET, "/images/{name*}/get") { request, params in try await save([params["name"] ?? ""], request) }
        router.add(.POST, "/commit") { request, _ in
            guard let container = request.query("container") else { throw APIError.badRequest("container is required") }
            var repo = request.query("repo")
            if let r = repo, r.hasPrefix("docker.io/") { repo = String(r.dropFirst("docker.io/".count)) }
            // docker's BoolValueOrDefault: absent is true; "", 0, no, false and none are false.
            let pause = request.query("pause").map { !["", "0", "no", "false", "none"].contains($0.lowercased()) } ?? true
            let id = try await containers.commit(container, repository: repo, tag: request.query("tag"), author: request.query("author"),
                                                 comment: request.query("comment"), changes: changeLines(request), pause: pause)
            return .json(.created, ["Id": id.description])
        }
    }

    /// `reference` (a name or `fnmatch` pattern against `repo` and `repo:tag`) and `dangling`.
    static func matches(tags: [String], _ filters: ListFilters) -> Bool {
        if let dangling = filters.values("dangling"), let wanted = dangling.first {
            if (wanted == "true" || wanted == "1") != tags.isEmpty { return false }
        }
        if let patterns = filters.values("reference"), !patterns.isEmpty {
            return tags.contains { tag in
                let repository = tag.split(separator: ":").dropLast().joined(separator: ":")
                return patterns.contains { fnmatch($0, tag, 0) == 0 || fnmatch($0, repository, 0) == 0 }
            }
        }
        return true
    }

    private func resolveImage(_ name: String) async throws -> ImageRecord {
        do {
            return try await engine.images.resolve(name)
        } catch EngineError.noSuchImage(let shown) {
            throw APIError.notFound("No such image: \(shown)")
        }
    }

    /// `changes` may come repeated or newline-separated.
    private func changeLines(_ request: APIRequest) -> [String] {
        (request.query["changes"] ?? []).flatMap { $0.split(separator: "\n").map(String.init) }
    }

    private func importImage(_ request: APIRequest) throws -> APIResponse {
        guard request.query("fromSrc") == "-" else { throw APIError.badRequest("importing from a URL is not supported; send the tarball as the body (fromSrc=-)") }
        var reference = request.query("repo").flatMap { $0.isEmpty ? nil : $0 }
        if let repo = reference, let tag = request.query("tag"), !tag.isEmpty { reference = "\(repo):\(tag)" }
        let target = reference
        let changes = changeLines(request)
        let message = request.query("message")
        let images = engine.images
        let temporary = engine.configuration.temporaryRoot
        let body = request.body
        return .stream(.ok, contentType: "application/json") { writer in
            let path: String
            switch body {
            case .file(let p): path = p
            case .bytes(let bytes):
                path = "\(temporary)/import-\(UInt64.random(in: 0...UInt64.max))"
                try FileSystem.writeAtomically(path, bytes: bytes, mode: 0o600)
            case .none:
                throw APIError.badRequest("the request has no tarball in its body")
            }
            defer { if case .bytes = body { unlink(path) } }
            let id = try await images.importRootFS(tarPath: path, reference: target, changes: changes, message: message)
            engine.publishImageEvent("import", id: id.description, name: target ?? id.description)
            try await writer.writeJSON(["status": id.description])
        }
    }

    private func save(_ names: [String], _ request: APIRequest) async throws -> APIResponse {
        guard !names.isEmpty else { throw APIError.badRequest("no image names given") }
        let format = ImageArchiveFormat(rawValue: request.query("format") ?? "docker") ?? .docker
        let path = "\(engine.configuration.temporaryRoot)/save-\(UInt64.random(in: 0...UInt64.max)).tar"
        try await engine.images.save(names: names, format: format, to: path)
        for name in names { engine.publishImageEvent("save", id: name, name: name) }
        return FileStream.response(path, contentType: "application/x-tar", removeAfter: true)
    }

    private func inspect(_ record: ImageRecord) async throws -> ImageInspect {
        let config = try await engine.images.config(of: record)
        let size = await engine.images.size(of: record)
        return ImageInspect(
            Id: record.id.description, RepoTags: await engine.images.tags(of: record.id), RepoDigests: record.repoDigests ?? [],
            Comment: config.history?.last?.comment ?? "", Created: config.created ?? record.created.rfc3339Nano,
            Author: config.author ?? "", Config: config.config ?? ContainerDefaults(), Architecture: config.architecture,
            Os: config.os, Size: size, VirtualSize: size,
            RootFS: .init(Type: "layers", Layers: config.rootfs.diff_ids.map(\.description)),
            Metadata: ["LastTagTime": (record.lastTagTime ?? .zero).rfc3339Nano])
    }
}

struct ImageSummary: Encodable {
    var Id: String
    var ParentId = ""
    var RepoTags: [String]
    var RepoDigests: [String] = []
    var Created: Int64
    var Size: Int64
    var SharedSize: Int64 = -1
    var VirtualSize: Int64
    var Labels: [String: String]?
    var Containers = -1
}

struct HistoryRow: Encodable {
    var Id: String
    var Created: Int64
    var CreatedBy: String
    var Tags: [String]?
    var Size: Int64
    var Comment: String
}

struct ImageInspect: Encodable {
    struct RootFSInfo: Encodable {
        var `Type`: String
        var Layers: [String]
    }
    var Id: String
    var RepoTags: [String]
    var RepoDigests: [String]
    var Parent = ""
    var Comment: String
    var Created: String
    var Container = ""
    var DockerVersion = ""
    var Author: String
    var Config: ContainerDefaults
    var Architecture: String
    var Os: String
    var Size: Int64
    var VirtualSize: Int64
    var GraphDriver = GraphDriverInfo()
    var RootFS: RootFSInfo
    var Metadata: [String: String]
}

struct GraphDriverInfo: Encodable {
    var Name = "overlay2"
    var Data: [String: String] = [:]
}
