import BerthSystem
import Registry
import CCrypt
import ContentDigest
import Glibc
import NIOPosix
import OCI

/// An htpasswd file as Docker's registry reads it: `user:hash` lines, where the hash is bcrypt
/// (`$2y$`, `$2b$`, `$2a$`, as `htpasswd -B` writes) or another scheme libcrypt knows.
/// Verification goes through libcrypt's `crypt_r`, which compares in its own format.
public struct HTPasswd: Sendable {
    /// Password hashes by user name.
    public let entries: [String: String]

    /// Parses `text` (read from `path`); blank lines and `#` comments are skipped. Throws for a
    /// line without `user:hash`.
    public init(text: String, path: String = "htpasswd") throws {
        var entries: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw.filter { $0 != "\r" }).trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, line.index(after: colon) != line.endIndex else {
                throw RegistryServerError.htpasswdInvalid(path: path, reason: "line \(number + 1) is not user:hash")
            }
            entries[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        self.entries = entries
    }

    /// Reads the htpasswd file at `path`.
    public static func load(_ path: String) throws -> HTPasswd {
        guard let bytes = try? FileSystem.readFile(path) else {
            throw RegistryServerError.htpasswdInvalid(path: path, reason: "cannot read it")
        }
        return try HTPasswd(text: String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Whether `password` is `user`'s. Slow by design for bcrypt (call it off the event loop).
    public func verify(user: String, password: String) -> Bool {
        guard let hash = entries[user] else { return false }
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        memset(data, 0, MemoryLayout<crypt_data>.size)
        guard let result = crypt_r(password, hash, data) else { return false }
        let computed = String(cString: result)
        // libcrypt returns a string starting with `*` on failure, never equal to a valid hash.
        return !computed.hasPrefix("*") && constantTimeEqual(Array(computed.utf8), Array(hash.utf8))
    }

    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Checks `Authorization: Basic` headers against an htpasswd file. Verified credentials are
/// remembered (by a hash of the header) so a push of many requests pays bcrypt once.
final class BasicAuthenticator: Sendable {
    /// The realm named in `WWW-Authenticate` challenges.
    let realm: String
    private let htpasswd: HTPasswd
    private let verified = VerifiedCredentials()

    init(htpasswd: HTPasswd, realm: String = "berth-registry") {
        self.htpasswd = htpasswd
        self.realm = realm
    }

    /// Whether `header` carries a user and password the htpasswd file accepts.
    func allows(_ header: String?, io: NIOThreadPool) async -> Bool {
        guard let header, header.lowercased().hasPrefix("basic "),
              let decoded = Base64.decode(String(header.dropFirst(6)).trimmed) else { return false }
        let key = Digest.sha256(of: decoded)
        if await verified.contains(key) { return true }
        let text = String(decoding: decoded, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return false }
        let user = String(text[..<colon]), password = String(text[text.index(after: colon)...])
        let htpasswd = self.htpasswd
        guard (try? await io.runIfActive({ htpasswd.verify(user: user, password: password) })) == true else { return false }
        await verified.insert(key)
        return true
    }
}

/// Hashes of `user:password` pairs that passed verification.
actor VerifiedCredentials {
    private var keys: Set<Digest> = []

    func contains(_ key: Digest) -> Bool { keys.contains(key) }

    func insert(_ key: Digest) {
        // Bounded: a client cycling through passwords cannot grow it without limit.
        if keys.count > 1024 { keys.removeAll() }
        keys.insert(key)
    }
}
