import OCI

/// Validation of the path parameters a client sends, with the distribution spec's grammar
/// ("Pulling manifests": `<name>` and `<reference>`): a value that passes is safe as a path
/// component under the server's root (no `/` in tags and digests, no `.`/`..` components and no
/// upper case in names).
enum RegistryNames {
    /// The longest repository name accepted (the spec lets registries limit it; Docker uses 255).
    static let maximumNameLength = 255

    /// Checks `name` against `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
    static func validateName(_ name: String) throws {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= maximumNameLength,
              components.allSatisfy({ Reference.isValidPathComponent(String($0)) }) else {
            throw RegistryServerError.nameInvalid(name: name)
        }
    }

    /// Checks `tag` against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    static func validateTag(_ tag: String) throws {
        guard Reference.isValidTag(tag) else { throw RegistryServerError.tagInvalid(tag: tag) }
    }

    /// Parses a digest the server can verify (sha256); others are refused as `DIGEST_INVALID`.
    static func digest(_ text: String) throws -> Digest {
        guard let digest = try? Digest(parsing: text) else {
            throw RegistryServerError.digestInvalid(reason: "\"\(text)\" is not a digest (sha256:<64 lowercase hex digits>)")
        }
        guard digest.algorithm == "sha256" else {
            throw RegistryServerError.digestInvalid(reason: "algorithm \(digest.algorithm) is not supported; use sha256")
        }
        return digest
    }

    /// A manifest reference: a digest when it contains `:`, otherwise a tag.
    static func reference(_ text: String) throws -> ManifestReference {
        if text.contains(":") { return .digest(try digest(text)) }
        try validateTag(text)
        return .tag(text)
    }

    /// Checks an upload session id: the 32 lowercase hex digits the server hands out.
    static func validateUploadID(_ id: String) throws {
        guard id.utf8.count == 32, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw RegistryServerError.blobUploadUnknown(id: id)
        }
    }
}

/// What `/v2/<name>/manifests/<reference>` names: a tag or a digest.
enum ManifestReference: Equatable, Sendable, CustomStringConvertible {
    case tag(String)
    case digest(Digest)

    var description: String {
        switch self {
        case .tag(let t): return t
        case .digest(let d): return d.description
        }
    }
}
