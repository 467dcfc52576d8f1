#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import Glibc
import LayerArchive

/// `POST /build`: docker's classic builder protocol. The body is the context as a tar (plain
/// or compressed) or a bare Dockerfile; the answer streams `{"stream": …}` lines with docker's
/// step texts, `{"aux": {"ID": …}}` with the image, and a failure as `{"errorDetail": …}`.
struct BuildRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let builder = engine.builder
        let temporaryRoot = engine.configuration.temporaryRoot
        router.add(.POST, "/build") { request, _ in
            if let remote = request.query("remote"), !remote.isEmpty {
                throw APIError.badRequest("building from a remote context (\(remote)) is not supported: send the context in the body")
            }
            if let version = request.query("version"), version == "2" {
                throw APIError.badRequest("BuildKit (version=2) is not supported by berthd: build with DOCKER_BUILDKIT=0 or berth build")
            }
            let options = try Self.options(request)
            let quiet = request.flag("q")
            let memoryLimit = engine.configuration.buildContextMemoryLimit
            var context: BuildContextDirectory?
            do {
                _ = try await request.body.withFile(in: temporaryRoot) { path in
                    var st = stat()
                    let bytes = stat(path, &st) == 0 ? Int64(st.st_size) : 0
                    var directory = try BuildContextDirectory.make(in: temporaryRoot, bodyBytes: bytes, memoryLimit: memoryLimit)
                    context = directory
                    do {
                        try Self.unpackContext(path, into: directory.path, dockerfile: options.dockerfile)
                    } catch where directory.inMemory {
                        // Larger unpacked than sent (compressed), past the allowance: on disk.
                        directory = try directory.onDisk()
                        context = directory
                        try Self.unpackContext(path, into: directory.path, dockerfile: options.dockerfile)
                    }
                }
            } catch {
                context?.remove()
                throw APIError.badRequest("the build context could not be read: \(error)")
            }
            if context == nil {
                // No body at all: an empty context (a Dockerfile is then missing, said by the build).
                context = try BuildContextDirectory.make(in: temporaryRoot, bodyBytes: 0, memoryLimit: 0)
            }
            let unpacked = context
            return .stream(.ok, contentType: "application/json") { writer in
                defer { unpacked?.remove() }
                do {
                    let id = try await builder.build(context: unpacked?.path ?? "", options: options) { message in
                        switch message {
                        case .stream(let text): if !quiet { try? await writer.writeJSON(["stream": text]) }
                        case .imageID(let id): try? await writer.writeJSON(["aux": ["ID": id]])
                        }
                    }
                    if quiet { try await writer.writeJSON(["stream": id.description + "\n"]) }
                } catch {
                    try await writer.writeJSON(BuildErrorMessage("\(error)"))
                }
            }
        }
    }

    /// A tar (any compression libarchive reads) is unpacked with the layer code's rules (a
    /// plain one whose end is missing after a whole last entry completed first, as docker's
    /// CLI sends a Dockerfile from outside the context); anything else is taken as the Dockerfile itself (`docker build - < Dockerfile`).
    static func unpackContext(_ path: String, into directory: String, dockerfile: String) throws {
        var st = stat()
        guard stat(path, &st) == 0, st.st_size > 0 else {
            return
        }
        if ArchiveDetection.isArchive(path) {
            try TarTrailer.complete(path)
            try LayerApplier().extract(archiveAt: path, into: directory, options: ExtractionOptions())
        } else {
            let name = dockerfile.contains("/") || dockerfile.hasPrefix(".") ? "Dockerfile" : dockerfile
            try FileSystem.copyFile(from: path, to: directory + "/" + name, mode: 0o644)
        }
    }

    /// The build's options from docker's query parameters.
    static func options(_ request: APIRequest) throws -> BuildOptions {
        var options = BuildOptions()
        if let dockerfile = request.query("dockerfile"), !dockerfile.isEmpty { options.dockerfile = dockerfile }
        options.tags = (request.query["t"] ?? []).filter { !$0.isEmpty }
        if let text = request.query("buildargs"), !text.isEmpty {
            options.buildArgs = try decode([String: String?].self, text, "buildargs")
        }
        if let text = request.query("labels"), !text.isEmpty {
            options.labels = try decode([String: String].self, text, "labels")
        }
        if let text = request.query("cachefrom"), !text.isEmpty {
            options.cacheFrom = try decode([String].self, text, "cachefrom")
        }
        options.target = request.query("target") ?? ""
        options.noCache = request.flag("nocache")
        options.pull = request.flag("pull")
        options.removeIntermediate = request.query("rm").map { !["0", "false", ""].contains($0.lowercased()) } ?? true
        options.forceRemove = request.flag("forcerm")
        options.networkMode = request.query("networkmode") ?? ""
        options.extraHosts = (request.query["extrahosts"] ?? []).flatMap { $0.split(separator: ",").map(String.init) }
        if let text = request.query("shmsize"), !text.isEmpty {
            guard let size = Int64(text), size >= 0 else { throw APIError.badRequest("invalid shmsize: \(text)") }
            options.shmSize = size == 0 ? nil : size
        }
        options.platform = request.query("platform") ?? ""
        // Berth's own parameter (the classic API has none): `--secret` contents by ID, base64.
        if let text = request.query("secrets"), !text.isEmpty {
            for (id, encoded) in try decode([String: String].self, text, "secrets") {
                guard let bytes = Data(base64Encoded: encoded) else { throw APIError.badRequest("invalid secrets: \(id) is not base64") }
                options.secrets[id] = Array(bytes)
            }
        }
        return options
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, _ name: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw APIError.badRequest("invalid \(name): \(text)")
        }
    }
}

/// docker's error line of a progress stream.
struct BuildErrorMessage: Encodable {
    struct Detail: Encodable {
        var code = 1
        var message: String
    }

    var errorDetail: Detail
    var error: String

    init(_ message: String) {
        errorDetail = Detail(message: message)
        error = message
    }
}
