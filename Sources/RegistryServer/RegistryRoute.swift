/// The distribution-spec endpoint a request path names ("Endpoints" table). Only the shape
/// of the path is decided here; names, tags and digests are validated by the handlers, so a bad
/// name is answered with `NAME_INVALID` rather than a 404.
enum RegistryRoute: Equatable, Sendable {
    /// `/v2/`: the API version check.
    case base
    /// `/v2/_catalog`.
    case catalog
    /// `/v2/<name>/tags/list`.
    case tags(name: String)
    /// `/v2/<name>/manifests/<reference>`.
    case manifest(name: String, reference: String)
    /// `/v2/<name>/blobs/<digest>`.
    case blob(name: String, digest: String)
    /// `/v2/<name>/blobs/uploads/` (with or without the trailing slash).
    case uploads(name: String)
    /// `/v2/<name>/blobs/uploads/<id>`.
    case upload(name: String, id: String)
    /// `/v2/<name>/referrers/<digest>`.
    case referrers(name: String, digest: String)

    /// The route for `path` (no query), or nil when it is not an endpoint of the API. The path is
    /// not percent-decoded: no valid name, tag or digest contains `%`, so encoded separators
    /// and dots reach the validators as they are and are refused there.
    static func parse(path: String) -> RegistryRoute? {
        guard path == "/v2" || path.hasPrefix("/v2/") else { return nil }
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).map(String.init)
        if parts.isEmpty || parts == [""] { return .base }
        if parts == ["_catalog"] { return .catalog }
        let trailingSlash = parts.last == ""
        if trailingSlash { parts.removeLast() }
        let n = parts.count
        func name(dropping k: Int) -> String? {
            n > k ? parts[0..<(n - k)].joined(separator: "/") : nil
        }
        if n >= 3, parts[n - 2] == "blobs", parts[n - 1] == "uploads", let name = name(dropping: 2) {
            return .uploads(name: name)
        }
        if trailingSlash { return nil }
        if n >= 4, parts[n - 3] == "blobs", parts[n - 2] == "uploads", let name = name(dropping: 3) {
            return .upload(name: name, id: parts[n - 1])
        }
        if n >= 3, parts[n - 2] == "tags", parts[n - 1] == "list", let name = name(dropping: 2) { return .tags(name: name) }
        if n >= 3, parts[n - 2] == "manifests", let name = name(dropping: 2) { return .manifest(name: name, reference: parts[n - 1]) }
        if n >= 3, parts[n - 2] == "blobs", let name = name(dropping: 2) { return .blob(name: name, digest: parts[n - 1]) }
        if n >= 3, parts[n - 2] == "referrers", let name = name(dropping: 2) { return .referrers(name: name, digest: parts[n - 1]) }
        return nil
    }
}
