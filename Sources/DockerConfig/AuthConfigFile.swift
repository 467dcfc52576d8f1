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
public struct StoredLogin: Equatable, Sendable {
    /// The user name (empty with an identity token from a helper).
    public var username: String
    /// The password (empty when an identity token replaces it).
    public var password: String
    /// The token a registry's token service issued at login, if any.
    public var identityToken: String?

    /// A login; see each property.
    public init(username: String, password: String, identityToken: String?) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }
}

/// Registry logins kept the way docker keeps them: `$DOCKER_CONFIG/config.json` (default
/// `~/.docker/config.json`), `{"auths": {"<server>": {"auth": base64("user:password")}}}` with
/// an `identitytoken` beside it when there is one, or in a credential helper named by
/// `credHelpers["<server>"]` or `credsStore` (the entry in `auths` is then empty). `berth` and
/// `docker` share logins. Other keys of the file are kept as they are.
public struct AuthConfigFile {
    /// The file's path.
    public let path: String
    private var document: [String: JSONValue]

    /// docker's key for Docker Hub.
    public static let dockerHubKey = "https://index.docker.io/v1/"

    /// The file named by the environment (it need not exist yet).
    public static func standard() -> AuthConfigFile {
        let environment = ProcessInfo.processInfo.environment
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? "/root") + "/.docker")
        return AuthConfigFile(path: directory + "/config.json")
    }

    /// The file at `path` as it is now (empty when absent or unreadable).
    public init(path: String) {
        self.path = path
        document = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(FileSystem.readFile(path)))) ?? [:]
    }

    /// The `auths` key for a registry domain (`docker.io` → docker's Hub URL).
    public static func key(forDomain domain: String) -> String {
        domain == Reference.defaultDomain ? dockerHubKey : domain
    }

    /// The credential helper that keeps the logins for `key`, if the file names one.
    public func helper(forKey key: String) -> CredentialHelper? {
        if case .object(let helpers)? = document["credHelpers"], case .string(let name)? = helpers[key], !name.isEmpty {
            return CredentialHelper(name: name)
        }
        if case .string(let name)? = document["credsStore"], !name.isEmpty { return CredentialHelper(name: name) }
        return nil
    }

    /// The stored login for `domain`, if any; asks the credential helper when there is one.
    public func credentials(forDomain domain: String) throws -> StoredLogin? {
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
    public mutating func set(_ login: StoredLogin?, forDomain domain: String) throws -> Bool {
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
}

/// Any JSON value, so a config file's unknown keys survive a rewrite.
public enum JSONValue: Codable, Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Decodes whatever JSON value is there.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Encodes the value as it was read.
    public func encode(to encoder: Encoder) throws {
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
