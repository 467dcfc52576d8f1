import NIOHTTP1

/// Maps method + path to a handler. Patterns are `/`-separated; `{x}` matches one segment and
/// `{x*}` one or more (image names contain `/` and `:` unescaped, so `/images/{name*}/json`
/// must be greedy).
public struct Router: Sendable {
    public typealias Handler = @Sendable (APIRequest, [String: String]) async throws -> APIResponse

    private struct Route: Sendable {
        enum Segment: Sendable { case literal(String), one(String), many(String) }
        let method: HTTPMethod
        let segments: [Segment]
        let handler: Handler
    }

    private var routes: [Route] = []

    public init() {}

    /// Adds a route; later routes do not override earlier ones.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments: [Route.Segment] = pattern.split(separator: "/").map { part in
            if part.hasPrefix("{") && part.hasSuffix("*}") { return .many(String(part.dropFirst().dropLast(2))) }
            if part.hasPrefix("{") && part.hasSuffix("}") { return .one(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    /// Answers a request: version check, route, handler; every error becomes docker's JSON error.
    public func respond(to request: APIRequest) async -> APIResponse {
        if let version = request.version {
            if version > APIVersion.current {
                return .json(.badRequest, ["message": "client version \(version) is too new. Maximum supported API version is \(APIVersion.current)"])
            }
            if version < APIVersion.minimum {
                return .json(.badRequest, ["message": "client version \(version) is too old. Minimum supported API version is \(APIVersion.minimum), please upgrade your client to a newer version"])
            }
        }
        let path = request.path.split(separator: "/").map(String.init)
        var methodMismatch = false
        for route in routes {
            guard let params = match(route.segments, path) else { continue }
            let method = request.method == .HEAD && route.method == .GET ? .GET : request.method
            guard route.method == method else { methodMismatch = true; continue }
            do {
                return try await route.handler(request, params)
            } catch {
                return ErrorMapping.response(for: error)
            }
        }
        if methodMismatch { return .json(.methodNotAllowed, ["message": "method not allowed"]) }
        return .json(.notFound, ["message": "page not found"])
    }

    private func match(_ segments: [Route.Segment], _ path: [String]) -> [String: String]? {
        var params: [String: String] = [:]
        guard let manyIndex = segments.firstIndex(where: { if case .many = $0 { return true }; return false }) else {
            guard segments.count == path.count else { return nil }
            for (segment, part) in zip(segments, path) {
                guard bind(segment, part, &params) else { return nil }
            }
            return params
        }
        let suffixCount = segments.count - manyIndex - 1
        guard path.count >= manyIndex + 1 + suffixCount else { return nil }
        for i in 0..<manyIndex {
            guard bind(segments[i], path[i], &params) else { return nil }
        }
        for i in 0..<suffixCount {
            guard bind(segments[segments.count - 1 - i], path[path.count - 1 - i], &params) else { return nil }
        }
        if case .many(let name) = segments[manyIndex] {
            params[name] = path[manyIndex..<(path.count - suffixCount)].joined(separator: "/")
        }
        return params
    }

    private func bind(_ segment: Route.Segment, _ part: String, _ params: inout [String: String]) -> Bool {
        switch segment {
        case .literal(let s): return s == part
        case .one(let name): params[name] = part; return true
        case .many: return false
        }
    }
}
