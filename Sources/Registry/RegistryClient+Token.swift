#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem

/// Authorization values a client has earned, per token scope (or one for basic auth).
actor TokenCache {
    private var bearer: [[String]: (token: String, expires: ContinuousClock.Instant)] = [:]
    private var basic: String?

    /// The `Authorization` header for `scopes`, if one is known and not expired.
    func authorization(for scopes: [String]) -> String? {
        if let basic { return basic }
        if let entry = bearer[scopes], entry.expires > .now { return "Bearer \(entry.token)" }
        return nil
    }

    func store(bearer token: String, scopes: [String], lifetime: Duration) {
        bearer[scopes] = (token, .now + lifetime - .seconds(5))
    }

    func store(basic authorization: String) { basic = authorization }
}

extension RegistryClient {
    /// Answers the registry's challenges (`WWW-Authenticate` values): fetches a bearer token for
    /// `scopes` (anonymously without credentials), or uses basic auth.
    func authenticate(challenges: [String], scopes: [String]) async throws {
        let parsed = challenges.compactMap(AuthChallenge.init(header:))
        if let bearer = parsed.first(where: { $0.scheme == .bearer }) {
            try await fetchToken(bearer, scopes: scopes)
        } else if parsed.contains(where: { $0.scheme == .basic }) {
            guard let credentials else {
                throw RegistryError.unauthorized(host: endpoint.domain, reason: "no basic auth credentials")
            }
            await tokens.store(basic: credentials.basicAuthorization)
        } else {
            throw RegistryError.unauthorized(host: endpoint.domain, reason: "the registry asked for authentication Berth does not speak (\(challenges.joined(separator: "; ")))")
        }
    }

    /// Checks that the registry accepts the credentials (`GET /v2/`, answering a challenge if
    /// there is one), as `docker login` does. Returns the identity token (an OAuth refresh
    /// token) when the registry's token service issued one for the credentials, to be stored
    /// instead of the password, as docker does.
    @discardableResult
    public func checkLogin() async throws -> String? {
        var visited = 0
        while true {
            visited += 1
            let challenge: [String]? = try await execute(HTTPRequest(.GET, endpoint.url("/v2/"),
                headers: (await tokens.authorization(for: [])).map { [("Authorization", $0)] } ?? [])) { response, _ in
                switch response.status {
                case 200..<300: return nil
                case 401: return response.headers["WWW-Authenticate"]
                default: throw RegistryError.unexpectedStatus(code: response.status, url: endpoint.url("/v2/").description, body: "")
                }
            }
            guard let challenge else { return nil }
            guard visited == 1 else {
                throw RegistryError.unauthorized(host: endpoint.domain, reason: "incorrect username or password")
            }
            let parsed = challenge.compactMap(AuthChallenge.init(header:))
            if let bearer = parsed.first(where: { $0.scheme == .bearer }) {
                // A token with no repository scope proves the credentials.
                return try await fetchToken(bearer, scopes: [], offline: true)
            }
            guard let credentials else { throw RegistryError.unauthorized(host: endpoint.domain, reason: "no credentials given") }
            await tokens.store(basic: credentials.basicAuthorization)
        }
    }

    /// Gets a bearer token for `scopes` from the challenge's realm and caches it. With an
    /// identity token: OAuth2 `POST realm` (`grant_type=refresh_token`); otherwise docker's
    /// `GET realm?service=…&scope=…`, with basic credentials when given and, for `offline`
    /// (a login), asking for a refresh token. Returns the refresh token the service issued, if any.
    @discardableResult
    private func fetchToken(_ challenge: AuthChallenge, scopes: [String], offline: Bool = false) async throws -> String? {
        guard let realm = challenge.realm else {
            throw RegistryError.malformed(what: "authentication challenge from \(endpoint.domain)", reason: "no realm")
        }
        var url = try HTTPURL(parsing: realm)
        var fields: [(String, String)] = []
        if let service = challenge.service { fields.append(("service", service)) }
        let request: HTTPRequest
        if let identityToken = credentials?.identityToken, !identityToken.isEmpty {
            fields += [("grant_type", "refresh_token"), ("refresh_token", identityToken), ("client_id", RegistryClient.oauthClientID)]
            if !scopes.isEmpty { fields.append(("scope", scopes.joined(separator: " "))) }
            request = HTTPRequest(.POST, url, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                  body: .bytes(Array(RegistryClient.formEncoded(fields).utf8)))
        } else {
            fields += scopes.map { ("scope", $0) }
            var headers: [(String, String)] = []
            if let credentials {
                fields.append(("account", credentials.username))
                if offline { fields += [("offline_token", "true"), ("client_id", RegistryClient.oauthClientID)] }
                headers.append(("Authorization", credentials.basicAuthorization))
            }
            if !fields.isEmpty { url.target += (url.target.contains("?") ? "&" : "?") + RegistryClient.formEncoded(fields) }
            request = HTTPRequest(.GET, url, headers: headers)
        }
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
            var refresh_token: String?
        }
        let answer: TokenResponse = try await http.execute(request) { response, body in
            switch response.status {
            case 200..<300:
                let bytes = try await body.collect(limit: 1 << 20, what: "token response")
                do {
                    return try JSONDecoder().decode(TokenResponse.self, from: Data(bytes))
                } catch {
                    throw RegistryError.malformed(what: "token response from \(url.authority)", reason: "\(error)")
                }
            case 400, 401, 403:
                throw RegistryError.unauthorized(host: endpoint.domain, reason: credentials == nil
                    ? "the token service refused an anonymous token"
                    : credentials?.identityToken?.isEmpty == false
                        ? "the token service refused the identity token (log in again)" : "incorrect username or password")
            default:
                throw RegistryError.unexpectedStatus(code: response.status, url: url.description, body: await RegistryClient.errorText(&body))
            }
        }
        guard let token = answer.token ?? answer.access_token, !token.isEmpty else {
            throw RegistryError.malformed(what: "token response from \(url.authority)", reason: "no token in it")
        }
        // Distribution's default lifetime is 60 s when none is given.
        await tokens.store(bearer: token, scopes: scopes, lifetime: .seconds(max(answer.expires_in ?? 60, 10)))
        return answer.refresh_token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The OAuth2 client ID Berth names itself with to token services.
    static let oauthClientID = "berth"

    /// `name=value&…` with both sides percent-encoded (a query string or a form body).
    static func formEncoded(_ fields: [(String, String)]) -> String {
        fields.map { percentEncoded($0.0) + "=" + percentEncoded($0.1) }.joined(separator: "&")
    }

    /// Query-component percent-encoding (RFC 3986 unreserved characters kept).
    static func percentEncoded(_ text: String) -> String {
        PercentEncoding.encode(text)
    }
}
