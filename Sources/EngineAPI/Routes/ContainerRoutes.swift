#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import NIOHTTP1

/// `/containers/...`: create, list, inspect, start/stop/kill/restart/wait, remove, logs,
/// top, changes, resize and attach.
struct ContainerRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let containers = engine.containers
        router.add(.POST, "/containers/create") { request, _ in
            let config: ContainerConfig
            do {
                config = try JSONDecoder().decode(ContainerConfig.self, from: Data(request.body.allBytes()))
            } catch {
                throw APIError.badRequest("invalid JSON in the container configuration: \(error)")
            }
            let id = try await containers.create(name: request.query("name"), spec: DockerContainerTranslation.spec(from: config))
            return .json(.created, CreateResponse(Id: id))
        }
        router.add(.GET, "/containers/json") { request, _ in
            let now = Timestamp.now()
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["status", "name", "id", "ancestor", "label", "health", "exited", "before", "since", "volume"]).first {
                throw APIError.badRequest("invalid filter '\(unknown)'")
            }
            for value in filters.values("exited") ?? [] where Int32(value) == nil {
                throw APIError.badRequest("invalid filter 'exited=\(value)'")
            }
            // `before`/`since` name a container: those created before/after it.
            let before = try await filters.values("before").flatMap(\.first).asyncMap { try await containers.resolve($0).created }
            let since = try await filters.values("since").flatMap(\.first).asyncMap { try await containers.resolve($0).created }
            let all = request.flag("all") || filters.values("status") != nil || filters.values("exited") != nil || before != nil || since != nil
            var rows = await containers.list(all: all)
                .filter { record in
                    filters.matches(record) && (before.map { record.created < $0 } ?? true) && (since.map { record.created > $0 } ?? true)
                }
                .map { ContainerSummary($0, now: now) }
            if let limit = try request.integer("limit", in: -1...Int.max), limit > 0 { rows = Array(rows.prefix(limit)) }
            return .json(.ok, rows)
        }
        router.add(.GET, "/containers/{id}/json") { request, params in
            let (record, directory, execIDs) = try await containers.inspect(params["id"] ?? "")
            let shortIDAlias = (request.version ?? APIVersion.current) < APIVersion(major: 1, minor: 45)
            return .json(.ok, ContainerInspect(record, directory: directory, execIDs: execIDs, shortIDAlias: shortIDAlias))
        }
        router.add(.POST, "/containers/{id}/start") { _, params in
            try await containers.start(params["id"] ?? "")
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/stop") { request, params in
            try await containers.stop(params["id"] ?? "", timeout: try request.integer("t", in: APIRequest.secondsRange))
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/restart") { request, params in
            try await containers.restart(params["id"] ?? "", timeout: try request.integer("t", in: APIRequest.secondsRange))
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/kill") { request, params in
            try await containers.kill(params["id"] ?? "", signal: request.query("signal").flatMap { $0.isEmpty ? nil : $0 })
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/pause") { _, params in
            try await containers.pause(params["id"] ?? "")
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/unpause") { _, params in
            try await containers.unpause(params["id"] ?? "")
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/update") { request, params in
            let change: HostConfig
            do {
                change = try JSONDecoder().decode(HostConfig.self, from: Data(request.body.allBytes()))
            } catch {
                throw APIError.badRequest("invalid JSON in the update: \(error)")
            }
            let (limits, policy) = try DockerContainerTranslation.update(from: change)
            try await containers.update(params["id"] ?? "", limits: limits, restartPolicy: policy)
            return .json(.ok, ["Warnings": [String]()])
        }
        router.add(.POST, "/containers/{id}/rename") { request, params in
            try await containers.rename(params["id"] ?? "", to: request.query("name") ?? "")
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/wait") { request, params in
            let condition = WaitCondition(rawValue: request.query("condition") ?? "not-running") ?? .notRunning
            let id = try await containers.resolve(params["id"] ?? "").id
            return .stream(.ok, contentType: "application/json") { writer in
                let result = try await containers.wait(id, condition: condition)
                try await writer.writeJSON(WaitBody(StatusCode: Int(result?.statusCode ?? -1)))
            }
        }
        router.add(.DELETE, "/containers/{id}") { request, params in
            try await containers.remove(params["id"] ?? "", force: request.flag("force"), volumes: request.flag("v"))
            return .empty(.noContent)
        }
        router.add(.POST, "/containers/{id}/resize") { request, params in
            try await containers.resize(params["id"] ?? "", rows: try request.integer("h", in: APIRequest.terminalRange) ?? 24, columns: try request.integer("w", in: APIRequest.terminalRange) ?? 80)
            return .data(.ok, contentType: "text/plain", body: [])
        }
        router.add(.GET, "/containers/{id}/changes") { _, params in
            let changes = try await containers.changes(params["id"] ?? "")
            return .json(.ok, changes.map { ChangeRow(Path: $0.path, Kind: $0.kind.rawValue) })
        }
        router.add(.GET, "/containers/{id}/top") { request, params in
            let (titles, processes) = try await containers.top(params["id"] ?? "", psArgs: request.query("ps_args"))
            return .json(.ok, TopBody(Titles: titles, Processes: processes))
        }
        router.add(.GET, "/containers/{id}/logs") { request, params in
            try await logs(request, params["id"] ?? "")
        }
        router.add(.POST, "/containers/{id}/attach") { request, params in
            try await attach(request, params["id"] ?? "")
        }
    }

    private func logs(_ request: APIRequest, _ reference: String) async throws -> APIResponse {
        let stdout = request.flag("stdout"), stderr = request.flag("stderr")
        guard stdout || stderr else { throw APIError.badRequest("Bad parameters: you must choose at least one stream") }
        let containers = engine.containers
        let record = try await containers.resolve(reference)
        let tty = record.spec.process.tty
        let tail = request.query("tail").flatMap { $0 == "all" ? nil : Int($0) }
        let timestamps = request.flag("timestamps")
        let follow = request.flag("follow")
        guard let files = try await containers.logFiles(of: record.id) else {
            throw APIError.notImplemented("configured logging driver does not support reading")
        }
        let since = try request.query("since").flatMap { $0.isEmpty || $0 == "0" ? nil : try ListFilters.instant($0, key: "since") }
        let until = try request.query("until").flatMap { $0.isEmpty || $0 == "0" ? nil : try ListFilters.instant($0, key: "until") }
        let reader = JSONLogReader(files: files, since: since, until: until)
        let id = record.id
        return .stream(.ok, contentType: tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream") { writer in
            try await reader.stream(tail: tail, follow: follow, stillRunning: { (try? await containers.resolve(id).state.isRunning) ?? false }) { entry in
                let isStdout = entry.stream == "stdout"
                guard (isStdout && stdout) || (!isStdout && stderr) else { return }
                var payload = Array(entry.log.utf8)
                if timestamps { payload = Array((entry.time + " ").utf8) + payload }
                try await writer.write(tty ? payload : StdCopy.frame(stream: isStdout ? 1 : 2, payload))
            }
        }
    }

    private func attach(_ request: APIRequest, _ reference: String) async throws -> APIResponse {
        let containers = engine.containers
        let record = try await containers.resolve(reference)
        let tty = record.spec.process.tty
        let stdin = request.flag("stdin"), stdout = request.flag("stdout"), stderr = request.flag("stderr")
        guard let detach = DetachKeys.bytes(request.query("detachKeys")) else {
            throw APIError.badRequest("Invalid detach keys (\(request.query("detachKeys") ?? "")) provided")
        }
        let hello = "attach stdin=\(stdin ? 1 : 0) stdout=\(stdout ? 1 : 0) stderr=\(stderr ? 1 : 0) \(DetachKeys.helloWord(detach))\n"
        let multiplexed = !tty && (request.version ?? .current) >= APIVersion(major: 1, minor: 42)
        let id = record.id
        // `logs=1`: what the container wrote so far comes first; `stream=0`: only that.
        var preamble: [UInt8] = []
        if request.flag("logs"), let files = try await containers.logFiles(of: id) {
            try await JSONLogReader(files: files).stream(tail: nil, follow: false, stillRunning: { false }) { entry in
                let isStdout = entry.stream == "stdout"
                guard (isStdout && stdout) || (!isStdout && stderr) else { return }
                let payload = Array(entry.log.utf8)
                preamble += tty ? payload : StdCopy.frame(stream: isStdout ? 1 : 2, payload)
            }
        }
        let live = request.query("stream").map { !["0", "false"].contains($0.lowercased()) } ?? true
        return .hijack(HijackPlan(
            connect: { live ? (try await containers.attachSocket(id).path, hello) : nil },
            finished: {},
            contentType: multiplexed ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream",
            preamble: preamble))
    }
}

struct CreateResponse: Encodable {
    var Id: String
    var Warnings: [String] = []
}

struct WaitBody: Encodable {
    var StatusCode: Int
    var Error: [String: String]? = nil

    enum CodingKeys: String, CodingKey { case StatusCode, Error }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(StatusCode, forKey: .StatusCode)
        try c.encode(Error, forKey: .Error)
    }
}

struct ChangeRow: Encodable {
    var Path: String
    var Kind: Int
}

struct TopBody: Encodable {
    var Titles: [String]
    var Processes: [[String]]
}
