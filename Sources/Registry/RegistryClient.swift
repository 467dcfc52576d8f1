#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1
import BerthSystem
import OCI

/// How one round of `send` ended.
enum SendOutcome<T: Sendable>: Sendable {
    case done(T)
    case redirect(String)
    case challenge([String])
}

/// A client of one registry (distribution-spec v1.1) for one repository: authenticates as the
/// registry asks (anonymous or credentialed bearer tokens, or basic auth), follows redirects
/// (never sending credentials to another host), and maps the registry's errors to
/// `RegistryError`. Operations are in the `+Fetch` (pull) extensions.
public struct RegistryClient: Sendable {
    /// The registry this client speaks to.
    public let endpoint: RegistryEndpoint
    /// The repository path inside the registry (`library/busybox`).
    public let repository: String
    let credentials: RegistryCredentials?
    let http: HTTPClient
    let tokens: TokenCache
    /// For an insecure registry: whether it answered over HTTPS (nil until tried).
    let scheme = SchemeChoice()
    /// Redirects followed for one request before giving up.
    static let maximumRedirects = 10
    /// How long an insecure registry's HTTPS answer is awaited when plain HTTP failed.
    static let httpsProbeTimeout = TimeAmount.seconds(3)


    /// - Parameter certificatesDirectory: where `<registry>/*.crt` CA files are looked up
    ///   (docker's `certs.d` layout).
    public init(endpoint: RegistryEndpoint, repository: String, credentials: RegistryCredentials?, certificatesDirectory: String? = nil) {
        self.endpoint = endpoint
        self.repository = repository
        self.credentials = credentials
        self.http = HTTPClient(tls: .forRegistry(endpoint.domain, secure: endpoint.secure, certificatesDirectory: certificatesDirectory))
        self.tokens = TokenCache()
    }

    /// Sends `request` to the registry, once more when the first try got no answer at all and
    /// the method is idempotent. An insecure registry is tried over plain HTTP and, when what
    /// answers does not speak it (a TLS server), over HTTPS without checking the certificate;
    /// the answer is remembered for the client's later requests. (docker tries HTTPS first;
    /// the order here spares plain servers a TLS hello they may sit on, and credentials still
    /// go over HTTP only to a server that answered HTTP.)
    func execute<T: Sendable>(_ request: HTTPRequest, _ handle: (HTTPResponse, inout ResponseBody) async throws -> T) async throws -> T {
        let idempotent = request.method == .GET || request.method == .HEAD
        do {
            return try await executeOnce(request, handle)
        } catch RegistryError.notAnswered where idempotent {
            return try await executeOnce(request, handle)
        }
    }

    private func executeOnce<T: Sendable>(_ request: HTTPRequest, _ handle: (HTTPResponse, inout ResponseBody) async throws -> T) async throws -> T {
        guard !endpoint.secure, request.url.host == endpoint.host, request.url.port == endpoint.url("/").port else {
            return try await http.execute(request, handle)
        }
        var attempt = request
        if let https = await scheme.useHTTPS {
            attempt.url.secure = https
            return try await http.execute(attempt, handle)
        }
        attempt.url.secure = false
        let plainFailure: RegistryError
        do {
            let result = try await http.execute(attempt) { response, body in
                // Go's TLS servers answer plain HTTP with this 400.
                if response.status == 400, let text = try? await body.collect(limit: 4096, what: "answer"),
                   String(decoding: text, as: UTF8.self).contains("HTTPS") {
                    throw RegistryError.protocolError(host: endpoint.domain, reason: "it speaks HTTPS")
                }
                return try await handle(response, &body)
            }
            await scheme.set(false)
            return result
        } catch let error as RegistryError {
            switch error {
            case .protocolError, .notAnswered: plainFailure = error
            default:
                await scheme.set(false)
                throw error
            }
        }
        // Not HTTP, or no answer: perhaps a TLS server (which closes on a plain request). A
        // plain server may sit on a TLS hello, so this try gets seconds, not a minute.
        attempt.url.secure = true
        var probe = http
        probe.readTimeout = RegistryClient.httpsProbeTimeout
        do {
            let result = try await probe.execute(attempt, handle)
            await scheme.set(true)
            return result
        } catch {
            throw plainFailure
        }
    }

    /// `repository:<path>:pull` and the like (distribution's token scope).
    func scope(_ actions: String) -> String { "repository:\(repository):\(actions)" }

    /// `<registry>/<repository>` for messages.
    var displayName: String { "\(endpoint.domain)/\(repository)" }

    /// Sends `method target` with the authorization the registry wants, following redirects, and
    /// hands a 2xx response to `handle`. 404 becomes `notFound`; 401 and 403 become
    /// `unauthorized` and `denied`; other statuses `unexpectedStatus` with the registry's message.
    func send<T: Sendable>(_ method: HTTPMethod, _ target: String, headers: [(String, String)] = [], body: HTTPRequestBody? = nil,
                           actions: String = "pull", extraScopes: [String] = [], notFound: RegistryError,
                           _ handle: (HTTPResponse, inout ResponseBody) async throws -> T) async throws -> T {
        try await send(method, url: endpoint.url(target), headers: headers, body: body, actions: actions,
                       extraScopes: extraScopes, notFound: notFound, handle)
    }

    /// `send` to an absolute URL (an upload location the registry handed out).
    func send<T: Sendable>(_ method: HTTPMethod, url start: HTTPURL, headers: [(String, String)] = [], body: HTTPRequestBody? = nil,
                           actions: String = "pull", extraScopes: [String] = [], notFound: RegistryError,
                           _ handle: (HTTPResponse, inout ResponseBody) async throws -> T) async throws -> T {
        var url = start
        let scopes = [scope(actions)] + extraScopes
        var visited: Set<String> = []
        var authorized = true
        var retriedAuth = false
        while true {
            guard visited.insert(url.description).inserted, visited.count <= RegistryClient.maximumRedirects else {
                throw RegistryError.redirectLoop(url: url.description)
            }
            var requestHeaders = headers
            // Credentials go only to the registry itself, never to a redirect target.
            let onRegistry = url.host == endpoint.host && url.port == endpoint.url("/").port
            if onRegistry && authorized, let authorization = await tokens.authorization(for: scopes) {
                requestHeaders.append(("Authorization", authorization))
            }
            let request = HTTPRequest(method, url, headers: requestHeaders, body: body)
            let outcome: SendOutcome<T> = try await execute(request) { response, body in
                switch response.status {
                case 200..<300:
                    return .done(try await handle(response, &body))
                case 301, 302, 303, 307, 308:
                    guard let location = response.header("Location") else {
                        throw RegistryError.unexpectedStatus(code: response.status, url: url.description, body: "redirect without a Location")
                    }
                    return .redirect(location)
                case 401 where onRegistry:
                    return .challenge(response.headers["WWW-Authenticate"])
                case 401:
                    throw RegistryError.unauthorized(host: endpoint.domain, reason: "the redirect target refused the request")
                case 403:
                    throw RegistryError.denied(repository: displayName, reason: await RegistryClient.errorText(&body))
                case 404:
                    throw notFound
                default:
                    throw RegistryError.unexpectedStatus(code: response.status, url: url.description, body: await RegistryClient.errorText(&body))
                }
            }
            switch outcome {
            case .done(let value):
                return value
            case .redirect(let location):
                url = try url.resolving(location)
                authorized = false
            case .challenge(let headers):
                guard !retriedAuth else {
                    throw RegistryError.unauthorized(host: endpoint.domain, reason: credentials == nil
                        ? "authentication required" : "incorrect username or password, or no access to \(displayName)")
                }
                retriedAuth = true
                try await authenticate(challenges: headers, scopes: scopes)
                visited.removeAll()
            }
        }
    }

    /// The registry's error message from a distribution error body
    /// (`{"errors":[{"code":…,"message":…}]}`), or the start of the body.
    static func errorText(_ body: inout ResponseBody) async -> String {
        guard let bytes = try? await body.collect(limit: 64 * 1024, what: "error body") else { return "" }
        struct Errors: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        if let decoded = try? JSONDecoder().decode(Errors.self, from: Data(bytes)), let errors = decoded.errors, !errors.isEmpty {
            return errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
        }
        return String(decoding: bytes.prefix(200), as: UTF8.self).trimmed
    }
}

/// Whether an insecure registry speaks HTTPS, once known.
actor SchemeChoice {
    private(set) var useHTTPS: Bool?

    func set(_ https: Bool) { useHTTPS = https }
}
