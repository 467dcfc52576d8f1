#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine
import Glibc
import NIOHTTP1

/// `HEAD/GET/PUT /containers/{id}/archive` (`docker cp`): a path's stat in
/// `X-Docker-Container-Path-Stat`, a tar of it, or a tar unpacked into it.
struct ArchiveRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let containers = engine.containers
        let temporary = engine.configuration.temporaryRoot
        router.add(.GET, "/containers/{id}/archive") { request, params in
            let path = try Self.path(request)
            let id = params["id"] ?? ""
            if request.method == .HEAD {
                let stat = try await containers.pathStat(id, path: path)
                return .data(.ok, contentType: "application/x-tar", body: [], extraHeaders: [try Self.statHeader(stat)])
            }
            let output = "\(temporary)/archive-\(UInt64.random(in: 0...UInt64.max)).tar"
            let stat: PathStat
            do {
                stat = try await containers.archive(id, path: path, to: output)
            } catch {
                unlink(output)
                throw error
            }
            return FileStream.response(output, contentType: "application/x-tar", extraHeaders: [try Self.statHeader(stat)], removeAfter: true)
        }
        router.add(.GET, "/containers/{id}/export") { _, params in
            let output = "\(temporary)/export-\(UInt64.random(in: 0...UInt64.max)).tar"
            do {
                try await containers.export(params["id"] ?? "", to: output)
            } catch {
                unlink(output)
                throw error
            }
            return FileStream.response(output, contentType: "application/x-tar", removeAfter: true)
        }
        router.add(.PUT, "/containers/{id}/archive") { request, params in
            let path = try Self.path(request)
            let done = try await request.body.withFile(in: temporary) { archive in
                try await containers.extract(params["id"] ?? "", path: path, archive: archive,
                                             noOverwriteDirNonDir: request.flag("noOverwriteDirNonDir"), copyUIDGID: request.flag("copyUIDGID"))
            }
            guard done != nil else { throw APIError.badRequest("the request has no archive in its body") }
            return .empty(.ok)
        }
    }

    private static func path(_ request: APIRequest) throws -> String {
        guard let path = request.query("path"), !path.isEmpty else { throw APIError.badRequest("path is required") }
        // docker takes a relative path as relative to the container's root.
        return path.hasPrefix("/") ? path : "/" + path
    }

    /// The stat as docker sends it: base64 of its JSON.
    static func statHeader(_ stat: PathStat) throws -> (String, String) {
        ("X-Docker-Container-Path-Stat", try JSONEncoder().encode(stat).base64EncodedString())
    }
}

/// A response that streams a file from disk in 1 MiB chunks (and removes it after, when asked).
enum FileStream {
    static func response(_ path: String, contentType: String, extraHeaders: [(String, String)] = [], removeAfter: Bool) -> APIResponse {
        .stream(.ok, contentType: contentType, extraHeaders: extraHeaders) { writer in
            defer { if removeAfter { unlink(path) } }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw EngineError.failure("cannot read \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                try await writer.write(Array(buffer[0..<n]))
            }
        }
    }
}
