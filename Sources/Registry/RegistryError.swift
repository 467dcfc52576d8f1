import OCI

/// Everything that can go wrong talking to a registry. Each description is a sentence naming
/// the registry, the object and what to do, as docker's messages do.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The host could not be reached (refused, unresolvable, timed out).
    case unreachable(host: String, reason: String)
    /// The connection broke or the server sent something that is not HTTP/1.1.
    case protocolError(host: String, reason: String)
    /// The request got no answer at all: the connection closed (or failed) before a response
    /// head arrived. Nothing of the response was seen, so an idempotent request may be retried.
    case notAnswered(host: String, reason: String)
    /// The body ended before `expected` bytes arrived.
    case truncated(what: String, received: Int64, expected: Int64)
    /// More bytes than the descriptor's size, or a document over the limit.
    case tooLarge(what: String, limit: Int64)
    /// The content does not hash to the digest it was asked for or announced with.
    case digestMismatch(what: String, expected: Digest, actual: Digest)
    /// The registry's answer names a media type that differs from the document's own.
    case mediaTypeMismatch(contentType: String, documentType: String)
    /// The registry has no such manifest (tag or digest).
    case manifestUnknown(reference: String)
    /// The registry has no such blob (a layer or config the manifest names).
    case blobUnknown(repository: String, digest: Digest)
    /// Authentication failed or is needed.
    case unauthorized(host: String, reason: String)
    /// Access was denied to an authenticated user.
    case denied(repository: String, reason: String)
    /// More redirects than allowed, or one that leads back to a URL already visited.
    case redirectLoop(url: String)
    /// The registry answered with an unexpected status.
    case unexpectedStatus(code: Int, url: String, body: String)
    /// An index has no manifest for the platform asked for.
    case noMatchingPlatform(platform: String, reference: String)
    /// A URL, header or document could not be understood.
    case malformed(what: String, reason: String)
    /// The host needs TLS, which this build cannot speak to it.
    case tlsUnavailable(host: String)

    /// A sentence naming what failed and where.
    public var description: String {
        switch self {
        case let .unreachable(host, reason):
            return "cannot reach registry \(host): \(reason)"
        case let .notAnswered(host, reason):
            return "registry \(host) did not answer: \(reason)"
        case let .protocolError(host, reason):
            return "registry \(host) broke the connection: \(reason)"
        case let .truncated(what, received, expected):
            return "\(what) was cut short: received \(received) bytes of its declared size of \(expected)"
        case let .tooLarge(what, limit):
            return "\(what) exceeds its size limit of \(limit) bytes"
        case let .digestMismatch(what, expected, actual):
            return "\(what) failed verification: expected digest \(expected), got \(actual)"
        case let .mediaTypeMismatch(contentType, documentType):
            return "manifest media type \"\(documentType)\" does not match the Content-Type \"\(contentType)\" it was served with"
        case let .manifestUnknown(reference):
            return "manifest for \(reference) not found: manifest unknown"
        case let .blobUnknown(repository, digest):
            return "blob \(digest) of \(repository) not found: blob unknown to registry"
        case let .unauthorized(host, reason):
            return "unauthorized: \(reason) (registry \(host)); log in with `berth login \(host)`"
        case let .denied(repository, reason):
            return "pull access denied for \(repository): \(reason)"
        case let .redirectLoop(url):
            return "too many redirects or a redirect loop at \(url)"
        case let .unexpectedStatus(code, url, body):
            return "unexpected HTTP status \(code) from \(url)" + (body.isEmpty ? "" : ": \(body)")
        case let .noMatchingPlatform(platform, reference):
            return "no matching manifest for \(platform) in the manifest list entries of \(reference)"
        case let .malformed(what, reason):
            return "malformed \(what): \(reason)"
        case let .tlsUnavailable(host):
            return "registry \(host) needs HTTPS; add it to the daemon's insecure registries to use plain HTTP"
        }
    }
}
