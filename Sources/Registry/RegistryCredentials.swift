#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a client may present to a registry: a user name and password (or a personal access
/// token in the password), or an identity token from an earlier login (an OAuth refresh token).
public struct RegistryCredentials: Sendable, Equatable {
    /// The account name.
    public var username: String
    /// The password or access token.
    public var password: String
    /// A refresh token from an earlier OAuth login, if any.
    public var identityToken: String?

    /// Credentials as given.
    public init(username: String, password: String, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }

    /// `Basic base64(user:password)`.
    public var basicAuthorization: String {
        "Basic " + Base64.encode(Array("\(username):\(password)".utf8))
    }
}

/// Base64 through Foundation, with the URL-safe alphabet and missing padding accepted on the way
/// in, as docker's `X-Registry-Auth` header may come either way.
public enum Base64 {
    /// Standard base64 with padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// The decoded bytes, or nil when `text` is not base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var standard = String(text.filter { $0 != "\n" && $0 != "\r" }.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
