import NIOCore
import NIOHTTP1
import NIOPosix
import OCI

/// Answers distribution-spec requests: checks credentials, finds the route, validates its
/// parameters and calls the endpoint. Every failure becomes the spec's JSON error; file system
/// work runs on `io`, never on an event loop.
struct RegistryHandler: RequestResponder {
    let storage: RegistryStorage
    let sessions: UploadSessions
    let authenticator: BasicAuthenticator?
    let io: NIOThreadPool
    /// Replication's `/metrics`, when the registry replicates.
    let metrics: MetricsEndpoint?

    init(storage: RegistryStorage, sessions: UploadSessions, authenticator: BasicAuthenticator?, io: NIOThreadPool, metrics: MetricsEndpoint? = nil) {
        self.storage = storage
        self.sessions = sessions
        self.authenticator = authenticator
        self.io = io
        self.metrics = metrics
    }

    /// The response to `request`, reading its body from `body` where the endpoint takes one.
    func respond(to request: ServerRequest, body: RequestBody) async -> ServerResponse {
        do {
            if let authenticator, !(await authenticator.allows(request.header("Authorization"), io: io)) {
                var response = ServerResponse.error(.unauthorized)
                response.headers.append(("WWW-Authenticate", "Basic realm=\"\(authenticator.realm)\""))
                return response
            }
            if request.path == "/metrics", request.method == .GET, let metrics { return await metrics.response() }
            guard let route = RegistryRoute.parse(path: request.path) else {
                throw RegistryServerError.unsupported(reason: "\(request.path) is not an endpoint of the distribution API", status: .notFound)
            }
            var response = try await dispatch(route, request, body)
            if request.method == .HEAD { response.headOnly = true }
            return response
        } catch let error as RegistryServerError {
            return .error(error)
        } catch is RequestBody.Truncated {
            return .error(.blobUploadInvalid(reason: "the request body was cut off", rangeNotSatisfiable: false))
        } catch {
            return .error(.storage(reason: "\(error)"))
        }
    }

    private func dispatch(_ route: RegistryRoute, _ request: ServerRequest, _ body: RequestBody) async throws -> ServerResponse {
        let method = request.method
        switch route {
        case .base:
            try allow(method, [.GET, .HEAD])
            return .json(.ok, Array("{}\n".utf8))
        case .catalog:
            try allow(method, [.GET])
            return try await catalog(request)
        case .tags(let name):
            try allow(method, [.GET])
            try RegistryNames.validateName(name)
            return try await tags(name, request)
        case .manifest(let name, let reference):
            try RegistryNames.validateName(name)
            let reference = try RegistryNames.reference(reference)
            switch method {
            case .GET, .HEAD: return try await getManifest(name, reference)
            case .PUT: return try await putManifest(name, reference, request, body)
            case .DELETE: return try await deleteManifest(name, reference)
            default: throw notAllowed(method)
            }
        case .blob(let name, let digest):
            try RegistryNames.validateName(name)
            let digest = try RegistryNames.digest(digest)
            switch method {
            case .GET, .HEAD: return try await getBlob(name, digest, request)
            case .DELETE: return try await deleteBlob(name, digest)
            default: throw notAllowed(method)
            }
        case .uploads(let name):
            try allow(method, [.POST])
            try RegistryNames.validateName(name)
            return try await startUpload(name, request, body)
        case .upload(let name, let id):
            try RegistryNames.validateName(name)
            try RegistryNames.validateUploadID(id)
            switch method {
            case .GET: return try await uploadStatus(name, id)
            case .PATCH: return try await patchUpload(name, id, request, body)
            case .PUT: return try await finishUpload(name, id, request, body)
            case .DELETE: return try await cancelUpload(name, id)
            default: throw notAllowed(method)
            }
        case .referrers(let name, let digest):
            try allow(method, [.GET])
            try RegistryNames.validateName(name)
            return try await referrers(name, try RegistryNames.digest(digest), request)
        }
    }

    private func allow(_ method: HTTPMethod, _ allowed: [HTTPMethod]) throws {
        guard allowed.contains(method) else { throw notAllowed(method) }
    }

    private func notAllowed(_ method: HTTPMethod) -> RegistryServerError {
        .unsupported(reason: "method \(method.rawValue) is not allowed on this endpoint", status: .methodNotAllowed)
    }

    /// Runs blocking file system work on the I/O thread pool.
    func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await io.runIfActive(work)
    }
}
