#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import NIOHTTP1
import OCI
import Registry

/// Pulling (`POST /images/create?fromImage=`) and logging in (`POST /auth`).
struct RegistryRoutes {
    let engine: EngineServices

    /// `fromImage` (with `tag`, which may be a digest, and `platform`): resolves the manifest
    /// first, so an unknown image or refused credentials answer with an error status before
    /// the stream starts, then streams docker's progress messages.
    func pull(_ request: APIRequest) async throws -> APIResponse {
        let reference = try Self.reference(fromImage: request.query("fromImage") ?? "", tag: request.query("tag"))
        let platform = try request.query("platform").flatMap { $0.isEmpty ? nil : try Self.platform($0) }
        let credentials = try RegistryAuthHeader.credentials(request.headers.first(name: "X-Registry-Auth"))
        let puller = engine.puller
        let engine = engine
        let resolved: ImagePuller.Resolved
        do {
            resolved = try await puller.resolve(reference, platform: platform, credentials: credentials)
        } catch let error as RegistryError {
            switch error {
            case .unauthorized, .denied:
                // docker's wording and a 404: a 401 would make the docker CLI ask for a password.
                throw APIError.notFound("pull access denied for \(reference.familiarRepository), repository does not exist or may require 'docker login': \(error)")
            default:
                throw error
            }
        }
        return .stream(.ok, contentType: "application/json") { writer in
            do {
                try await puller.complete(resolved) { event in
                    try? await writer.writeJSON(ProgressMessage(event))
                }
                engine.publishImageEvent("pull", id: reference.familiar, name: reference.familiar)
            } catch {
                try await writer.writeJSON(ProgressMessage(error: "\(error)"))
            }
        }
    }

    /// `POST /images/{name}/push?tag=`: streams docker's push progress; every failure, a missing
    /// local image included, is reported in the stream, as docker does.
    func push(_ request: APIRequest, name: String) async throws -> APIResponse {
        let tag = request.query("tag").flatMap { $0.isEmpty ? nil : $0 }
        let reference = try Self.reference(fromImage: name, tag: tag)
        let credentials = try RegistryAuthHeader.credentials(request.headers.first(name: "X-Registry-Auth"))
        let pusher = engine.pusher
        let engine = engine
        return .stream(.ok, contentType: "application/json") { writer in
            do {
                try await pusher.push(reference, credentials: credentials) { event in
                    for message in ProgressMessage.messages(for: event) { try? await writer.writeJSON(message) }
                }
                engine.publishImageEvent("push", id: reference.familiar, name: reference.familiar)
            } catch {
                try await writer.writeJSON(ProgressMessage(error: "\(error)"))
            }
        }
    }

    /// `POST /auth`: checks the credentials against the registry, as `docker login` does.
    func login(_ request: APIRequest) async throws -> APIResponse {
        let body: AuthConfig
        do {
            body = try JSONDecoder().decode(AuthConfig.self, from: Data(request.body.allBytes()))
        } catch {
            throw APIError.badRequest("invalid login request: \(error)")
        }
        let domain = RegistryAuthHeader.domain(ofServerAddress: body.serveraddress ?? "")
        let credentials = body.credentials ?? RegistryCredentials(username: "", password: "")
        let identityToken = try await engine.configuration.registryAccess
            .client(domain: domain, repository: "", credentials: credentials).checkLogin()
        return .json(.ok, ["Status": "Login Succeeded", "IdentityToken": identityToken ?? ""])
    }

    /// `GET /distribution/{name}/referrers[?artifactType=]` (Berth's, beside docker's
    /// `/distribution/{name}/json`): the manifest `name` resolves to in its registry and the
    /// artifacts that refer to it: `{"Descriptor": …, "Referrers": [descriptors], "ReferrersAPI":
    /// true|false}` (false: read from the referrers tag of a registry without the API).
    func referrers(_ request: APIRequest, name: String) async throws -> APIResponse {
        let reference = try Self.reference(fromImage: name, tag: nil)
        let credentials = try RegistryAuthHeader.credentials(request.headers.first(name: "X-Registry-Auth"))
        let artifactType = request.query("artifactType").flatMap { $0.isEmpty ? nil : $0 }
        let found = try await engine.referrers.list(reference, artifactType: artifactType, credentials: credentials)
        struct Answer: Encodable {
            var Descriptor: OCI.Descriptor
            var Referrers: [OCI.Descriptor]
            var ReferrersAPI: Bool
        }
        return .json(.ok, Answer(Descriptor: found.subject, Referrers: found.referrers.manifests, ReferrersAPI: found.referrers.fromAPI))
    }

    /// `POST /distribution/{name}/referrers?artifactType=&mediaType=&title=&annotation=K=V…`
    /// with the artifact's content as the body (Berth's): pushes it to `name`'s registry as an
    /// artifact whose subject is the manifest `name` resolves to. 201 `{"Descriptor": …}`.
    func attach(_ request: APIRequest, name: String) async throws -> APIResponse {
        let reference = try Self.reference(fromImage: name, tag: nil)
        let credentials = try RegistryAuthHeader.credentials(request.headers.first(name: "X-Registry-Auth"))
        guard let artifactType = request.query("artifactType"), !artifactType.isEmpty else {
            throw APIError.badRequest("artifactType is required")
        }
        try Self.checkMediaType(artifactType, what: "artifactType")
        let mediaType = request.query("mediaType").flatMap { $0.isEmpty ? nil : $0 } ?? "application/octet-stream"
        try Self.checkMediaType(mediaType, what: "mediaType")
        var annotations: [String: String] = [:]
        for entry in request.query["annotation"] ?? [] {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw APIError.badRequest("invalid annotation \"\(entry)\": expected KEY=VALUE")
            }
            annotations[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        let title = request.query("title").flatMap { $0.isEmpty ? nil : $0 }
        let referrers = engine.referrers
        guard let descriptor = try await request.body.withFile(in: engine.configuration.temporaryRoot, { path in
            try await referrers.attach(reference, artifactType: artifactType, path: path, mediaType: mediaType,
                                       title: title, annotations: annotations, credentials: credentials)
        }) else {
            throw APIError.badRequest("the request has no artifact content in its body")
        }
        return .json(.created, ["Descriptor": descriptor])
    }

    /// A media type is `type/subtype` (RFC 6838 characters); anything else is refused before
    /// it reaches a registry.
    static func checkMediaType(_ text: String, what: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&-^_.+/")
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 127 }), text.allSatisfy(allowed.contains) else {
            throw APIError.badRequest("invalid \(what) \"\(text)\": expected a media type such as application/spdx+json")
        }
    }

    /// docker sends the repository in `fromImage` and the tag (or a digest) in `tag`; a tag may
    /// also come inside `fromImage`.
    static func reference(fromImage: String, tag: String?) throws -> Reference {
        guard !fromImage.isEmpty else { throw APIError.badRequest("fromImage is required") }
        guard let tag, !tag.isEmpty else { return try Reference(parsing: fromImage) }
        return try Reference(parsing: fromImage + (tag.contains(":") ? "@" : ":") + tag)
    }

    /// `os/arch[/variant]`.
    static func platform(_ text: String) throws -> Platform {
        let parts = text.lowercased().split(separator: "/").map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw APIError.badRequest("invalid platform \"\(text)\": expected os/arch[/variant]")
        }
        return Platform(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }
}

/// docker's `AuthConfig`: the body of `POST /auth` and, base64url-encoded, the
/// `X-Registry-Auth` header (`e30=` is `{}`, no credentials).
struct AuthConfig: Decodable {
    var username: String?
    var password: String?
    /// base64 of `user:password`, as in config.json.
    var auth: String?
    var serveraddress: String?
    var identitytoken: String?

    /// The credentials it carries, or nil when it carries none.
    var credentials: RegistryCredentials? {
        var user = username ?? ""
        var secret = password ?? ""
        if user.isEmpty, let combined = auth.flatMap(Base64.decode).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = combined.firstIndex(of: ":") {
            user = String(combined[..<colon])
            secret = String(combined[combined.index(after: colon)...])
        }
        guard !user.isEmpty || identitytoken != nil else { return nil }
        return RegistryCredentials(username: user, password: secret, identityToken: identitytoken)
    }
}

/// Reading the `X-Registry-Auth` header and `serveraddress` values.
enum RegistryAuthHeader {
    static func credentials(_ header: String?) throws -> RegistryCredentials? {
        guard let header, !header.isEmpty else { return nil }
        guard let bytes = Base64.decode(header) else { throw APIError.badRequest("X-Registry-Auth is not base64") }
        do {
            return try JSONDecoder().decode(AuthConfig.self, from: Data(bytes)).credentials
        } catch {
            throw APIError.badRequest("X-Registry-Auth is not the JSON docker sends: \(error)")
        }
    }

    /// The registry a login names: `https://index.docker.io/v1/` → `docker.io`,
    /// `http://127.0.0.1:5000/` → `127.0.0.1:5000`.
    static func domain(ofServerAddress address: String) -> String {
        var text = Substring(address)
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
        let host = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        if host.isEmpty || host == "index.docker.io" || host == "registry-1.docker.io" { return Reference.defaultDomain }
        return host
    }
}

/// One line of docker's JSON progress stream (`pkg/jsonmessage`).
struct ProgressMessage: Encodable {
    struct Detail: Encodable {
        var current: Int64?
        var total: Int64?
    }
    struct ErrorDetail: Encodable { var message: String }

    var status: String?
    var id: String?
    var progressDetail: Detail?
    var progress: String?
    var error: String?
    var errorDetail: ErrorDetail?
    var aux: PushAux?

    /// `{"Tag","Digest","Size"}` after a push.
    struct PushAux: Encodable {
        var Tag: String
        var Digest: String
        var Size: Int64
    }

    init(status: String? = nil, id: String? = nil, detail: Detail? = nil) {
        self.status = status
        self.id = id
        self.progressDetail = detail
    }

    /// docker's lines for a push event (a finished push gives two).
    static func messages(for event: PushEvent) -> [ProgressMessage] {
        switch event {
        case .refersTo(let repository):
            return [ProgressMessage(status: "The push refers to repository [\(repository)]")]
        case let .layer(id, state):
            var message = ProgressMessage(id: id, detail: Detail())
            switch state {
            case .preparing: message.status = "Preparing"
            case .waiting: message.status = "Waiting"
            case let .pushing(current, total):
                message.status = "Pushing"
                message.progressDetail = Detail(current: current, total: total)
                message.progress = bar(current: current, total: total)
            case .pushed: message.status = "Pushed"
            case .alreadyExists: message.status = "Layer already exists"
            case .mounted(let source): message.status = "Mounted from \(source)"
            }
            return [message]
        case let .pushed(tag, digest, size):
            var aux = ProgressMessage(detail: Detail())
            aux.aux = PushAux(Tag: tag, Digest: digest.description, Size: size)
            return [ProgressMessage(status: "\(tag): digest: \(digest) size: \(size)"), aux]
        }
    }

    init(error: String) {
        self.error = error
        self.errorDetail = ErrorDetail(message: error)
    }

    init(_ event: PullEvent) {
        switch event {
        case let .pulling(repository, reference):
            status = "Pulling from \(repository)"
            id = reference
        case let .layer(layerID, state):
            id = layerID
            progressDetail = Detail()
            switch state {
            case .alreadyExists: status = "Already exists"
            case .pullingFSLayer: status = "Pulling fs layer"
            case .waiting: status = "Waiting"
            case let .downloading(current, total):
                status = "Downloading"
                progressDetail = Detail(current: current, total: total)
                progress = ProgressMessage.bar(current: current, total: total)
            case .verifyingChecksum: status = "Verifying Checksum"
            case .downloadComplete: status = "Download complete"
            case .extracting: status = "Extracting"
            case .pullComplete: status = "Pull complete"
            }
        case .digest(let digest):
            status = "Digest: \(digest)"
        case .status(let text):
            status = text
        }
    }

    /// docker's `[=====>    ]  1.2MB/3.4MB`.
    static func bar(current: Int64, total: Int64) -> String {
        let width = 50
        let filled = total > 0 ? Int(min(Int64(width), current * Int64(width) / total)) : 0
        let arrow = filled < width ? ">" : ""
        let bar = String(repeating: "=", count: max(0, filled - (arrow.isEmpty ? 0 : 1))) + (filled > 0 ? arrow : "")
        return "[\(bar.padding(to: width))] \(HumanSize.decimal(current))/\(HumanSize.decimal(total))"
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

