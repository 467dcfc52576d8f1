#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc
import OCI

/// A login as docker keeps it: a user name with a password, or (after a login to a registry
/// whose token service issues them) with an identity token instead of the password.
struct StoredLogin: Equatable {
    var username: String
    var password: String
    var identityToken: String?
}

/// Registry logins kept the way docker keeps them: `$DOCKER_CONFIG/config.json` (default
/// `~/.docker/config.json`), `{"auths": {"<server>": {"auth": base64("user:password")}}}` with
/// an `identitytoken` beside it when there is one, or in a credential helper named by
/// `credHelpers["<server>"]` or `credsStore` (the entry in `auths` is then empty). `berth` and
/// `docker` share logins. Other keys of the file are kept as they are.
struct AuthConfigFile {
    let path: String
    private var document: [String: JSONValue]

    /// docker's key for Docker Hub.
    static let dockerHubKey = "https://index.docker.io/v1/"

    /// The file named by the environment (it need not exist yet).
    static func standard() -> AuthConfigFile {
        let environment = ProcessInfo.processInfo.environment
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? "/root") + "/.docker")
        return AuthConfigFile(path: directory + "/config.json")
    }

    init(path: String) {
        self.path = path
        document = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(FileSystem.readFile(path)))) ?? [:]
    }

    /// The `auths` key for a registry domain (`docker.io` → docker's Hub URL).
    static func key(forDomain domain: String) -> String {
        domain == Reference.defaultDomain ? dockerHubKey : domain
    }

    /// The credential helper that keeps the logins for `key`, if the file names one.
    func helper(forKey key: String) -> CredentialHelper? {
        if case .object(let helpers)? = document["credHelpers"], case .string(let name)? = helpers[key], !name.isEmpty {
            return CredentialHelper(name: name)
        }
        if case .string(let name)? = document["credsStore"], !name.isEmpty { return CredentialHelper(name: name) }
        return nil
    }

    /// The stored login for `domain`, if any; asks the credential helper when there is one.
    func credentials(forDomain domain: String) throws -> StoredLogin? {
        let key = AuthConfigFile.key(forDomain: domain)
        if let helper = helper(forKey: key) { return try helper.get(server: key) }
        guard case .object(let auths)? = document["auths"] else { return nil }
        let entry = auths[key] ?? auths["https://\(key)"] ?? auths["http://\(key)"]
        guard case .object(let fields)? = entry else { return nil }
        var identityToken: String?
        if case .string(let token)? = fields["identitytoken"], !token.isEmpty { identityToken = token }
        guard case .string(let encoded)? = fields["auth"],
              let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
              let colon = decoded.firstIndex(of: ":") else {
            return identityToken.map { StoredLogin(username: "", password: "", identityToken: $0) }
        }
        return StoredLogin(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]),
                           identityToken: identityToken)
    }

    /// Stores (or with nil removes) the login for `domain`, in the credential helper when there
    /// is one; writes the file (mode 0600) atomically. Returns false when removing a login that
    /// was not there.
    @discardableResult
    mutating func set(_ login: StoredLogin?, forDomain domain: String) throws -> Bool {
        let key = AuthConfigFile.key(forDomain: domain)
        var auths: [String: JSONValue] = [:]
        if case .object(let existing)? = document["auths"] { auths = existing }
        var had = auths[key] != nil
        if let helper = helper(forKey: key) {
            if let login {
                try helper.store(login, server: key)
                auths[key] = .object([:])
            } else {
                had = try helper.erase(server: key) || had
                auths[key] = nil
            }
        } else if let login {
            let encoded = Data("\(login.username):\(login.identityToken == nil ? login.password : "")".utf8).base64EncodedString()
            var fields: [String: JSONValue] = ["auth": .string(encoded)]
            if let token = login.identityToken { fields["identitytoken"] = .string(token) }
            auths[key] = .object(fields)
        } else {
            auths[key] = nil
        }
        document["auths"] = .object(auths)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = Array(try encoder.encode(document))
        try FileSystem.makeDirectories(FileSystem.parent(of: path), mode: 0o700)
        try FileSystem.writeAtomically(path, bytes: bytes + [0x0a], mode: 0o600)
        return had
    }

    /// docker's `X-Registry-Auth` value for pulling from or pushing to `domain`: base64url of
    /// the stored login, or of `{}` when there is none.
    func registryAuthHeader(forDomain domain: String) throws -> String {
        guard let login = try credentials(forDomain: domain) else { return ImagePull.emptyAuth }
        struct Header: Encodable {
            var username: String
            var password: String
            var serveraddress: String
            var identitytoken: String?
        }
        let header = Header(username: login.username, password: login.password,
                            serveraddress: AuthConfigFile.key(forDomain: domain), identitytoken: login.identityToken)
        let json = (try? JSONEncoder().encode(header)) ?? Data("{}".utf8)
        return json.base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
    }
}

/// Any JSON value, so a config file's unknown keys survive a rewrite.
enum JSONValue: Codable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
