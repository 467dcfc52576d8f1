#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine
import NIOHTTP1

/// `/containers/{id}/exec` and `/exec/{id}/...`.
struct ExecRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let containers = engine.containers
        router.add(.POST, "/containers/{id}/exec") { request, params in
            let config: ExecConfig
            do {
                config = try JSONDecoder().decode(ExecConfig.self, from: Data(request.body.allBytes()))
            } catch {
                throw APIError.badRequest("invalid JSON in the exec configuration: \(error)")
            }
            guard DetachKeys.bytes(config.DetachKeys) != nil else {
                throw APIError.badRequest("Invalid escape keys (\(config.DetachKeys ?? "")) provided")
            }
            let id = try await containers.createExec(params["id"] ?? "", spec: config.spec)
            return .json(.created, ["Id": id])
        }
        router.add(.POST, "/exec/{id}/start") { request, params in
            struct StartBody: Decodable { var Detach: Bool?; var Tty: Bool?; var ConsoleSize: [Int]? }
            let bytes = try request.body.allBytes()
            let body: StartBody
            do {
                body = bytes.isEmpty ? StartBody() : try JSONDecoder().decode(StartBody.self, from: Data(bytes))
            } catch {
                throw APIError.badRequest("invalid JSON in the exec start request: \(error)")
            }
            let id = params["id"] ?? ""
            let exec = try await containers.exec(id)
            if let size = body.ConsoleSize, size.count == 2, size[0] > 0, size[1] > 0 {
                try await containers.resizeExec(id, rows: size[0], columns: size[1])
            }
            if body.Detach == true {
                _ = try await containers.startExec(id)
                return .data(.ok, contentType: "application/json", body: [])
            }
            let tty = exec.spec.tty
            let detach = DetachKeys.bytes(exec.spec.detachKeys) ?? []
            let hello = "attach stdin=\(exec.spec.attachStdin ? 1 : 0) stdout=1 stderr=1 \(DetachKeys.helloWord(detach))\n"
            let multiplexed = !tty && (request.version ?? .current) >= APIVersion(major: 1, minor: 42)
            return .hijack(HijackPlan(
                connect: { (try await containers.startExec(id), hello) },
                finished: { await containers.waitForExec(id) },
                    contentType: multiplexed ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream"))
        }
        router.add(.POST, "/exec/{id}/resize") { request, params in
            try await containers.resizeExec(params["id"] ?? "", rows: try request.integer("h", in: APIRequest.terminalRange) ?? 24, columns: try request.integer("w", in: APIRequest.terminalRange) ?? 80)
            return .data(.ok, contentType: "text/plain", body: [])
        }
        router.add(.GET, "/exec/{id}/json") { _, params in
            let exec = try await containers.exec(params["id"] ?? "")
            return .json(.ok, ExecInspect(exec))
        }
    }
}

struct ExecInspect: Encodable {
    struct ProcessSettings: Encodable {
        var tty: Bool
        var entrypoint: String
        var arguments: [String]
        var privileged: Bool
        var user: String
    }
    var ID: String
    var Running: Bool
    var ExitCode: Int32?
    var ProcessConfig: ProcessSettings
    var OpenStdin: Bool
    var OpenStderr: Bool
    var OpenStdout: Bool
    var CanRemove = false
    var ContainerID: String
    var DetachKeys: String
    var Pid: Int32

    init(_ e: ExecRecord) {
        ID = e.id
        Running = e.running
        ExitCode = e.exitCode
        let cmd = e.spec.cmd
        ProcessConfig = ProcessSettings(tty: e.spec.tty, entrypoint: cmd.first ?? "", arguments: Array(cmd.dropFirst()), privileged: e.spec.privileged, user: e.spec.user)
        OpenStdin = e.spec.attachStdin
        OpenStderr = e.spec.attachStderr
        OpenStdout = e.spec.attachStdout
        ContainerID = e.containerID
        DetachKeys = e.spec.detachKeys
        Pid = e.pid
    }
}
