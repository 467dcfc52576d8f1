/// Errors in parsing or validating OCI documents and names. Each description is a sentence a
/// user can act on.
public enum OCIError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidDigest(String)
    case invalidReference(String, reason: String)
    case malformedDocument(kind: String, reason: String)
    case unsupportedMediaType(String)

    public var description: String {
        switch self {
        case .invalidDigest(let s):
            return "invalid digest \"\(s)\": expected sha256:<64 lowercase hex digits>"
        case .invalidReference(let s, let reason):
            return "invalid reference format \"\(s)\": \(reason)"
        case .malformedDocument(let kind, let reason):
            return "malformed \(kind): \(reason)"
        case .unsupportedMediaType(let m):
            return "unsupported media type \"\(m)\""
        }
    }
}
