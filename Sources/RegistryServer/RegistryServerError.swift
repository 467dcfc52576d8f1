#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOHTTP1

/// What the registry server refuses, as the distribution spec names it ("Error Codes"): each
/// case maps to the spec's code and HTTP status, and its message says what to fix.
public enum RegistryServerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The repository links no blob with this digest (or the store lost it).
    case blobUnknown(digest: String)
    /// The upload cannot continue: out-of-order `Content-Range` (416) or an unusable request.
    case blobUploadInvalid(reason: String, rangeNotSatisfiable: Bool)
    /// No upload session with this id exists in this repository (finished, cancelled or expired).
    case blobUploadUnknown(id: String)
    /// The digest is malformed, unsupported, or does not match the uploaded bytes.
    case digestInvalid(reason: String)
    /// A manifest names a blob or manifest the repository does not hold.
    case manifestBlobUnknown(digest: String)
    /// The manifest is malformed or inconsistent.
    case manifestInvalid(reason: String)
    /// The manifest is larger than the server accepts.
    case manifestTooLarge(limit: Int)
    /// No manifest with this tag or digest exists in the repository.
    case manifestUnknown(reference: String)
    /// The repository name breaks the spec's grammar.
    case nameInvalid(name: String)
    /// The repository does not exist.
    case nameUnknown(name: String)
    /// A declared length does not match the content.
    case sizeInvalid(reason: String)
    /// The tag breaks the spec's grammar.
    case tagInvalid(tag: String)
    /// A requested byte range lies outside the blob.
    case rangeNotSatisfiable(size: Int64)
    /// Credentials are missing or wrong.
    case unauthorized
    /// The request is not part of the API, or uses a method the path does not support.
    case unsupported(reason: String, status: HTTPResponseStatus)
    /// The server could not read or write its store.
    case storage(reason: String)
    /// Another `berth-registry` (server or gc) holds the root's lock.
    case rootInUse(root: String)
    /// The htpasswd file cannot be used.
    case htpasswdInvalid(path: String, reason: String)

    /// The spec's error code (`BLOB_UNKNOWN`, …).
    public var code: String {
        switch self {
        case .blobUnknown: return "BLOB_UNKNOWN"
        case .blobUploadInvalid, .rangeNotSatisfiable: return "BLOB_UPLOAD_INVALID"
        case .blobUploadUnknown: return "BLOB_UPLOAD_UNKNOWN"
        case .digestInvalid: return "DIGEST_INVALID"
        case .manifestBlobUnknown: return "MANIFEST_BLOB_UNKNOWN"
        case .manifestInvalid, .manifestTooLarge: return "MANIFEST_INVALID"
        case .manifestUnknown: return "MANIFEST_UNKNOWN"
        case .nameInvalid: return "NAME_INVALID"
        case .nameUnknown: return "NAME_UNKNOWN"
        case .sizeInvalid: return "SIZE_INVALID"
        case .tagInvalid: return "TAG_INVALID"
        case .unauthorized: return "UNAUTHORIZED"
        case .unsupported: return "UNSUPPORTED"
        case .storage, .rootInUse, .htpasswdInvalid: return "UNKNOWN"
        }
    }

    /// The HTTP status the spec gives this error.
    public var status: HTTPResponseStatus {
        switch self {
        case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: return .notFound
        case .blobUploadInvalid(_, let range): return range ? .rangeNotSatisfiable : .badRequest
        case .rangeNotSatisfiable: return .rangeNotSatisfiable
        case .digestInvalid, .manifestBlobUnknown, .manifestInvalid, .nameInvalid, .sizeInvalid, .tagInvalid: return .badRequest
        case .manifestTooLarge: return .payloadTooLarge
        case .unauthorized: return .unauthorized
        case .unsupported(_, let status): return status
        case .storage, .rootInUse, .htpasswdInvalid: return .internalServerError
        }
    }

    /// A sentence saying what went wrong and what to do.
    public var description: String {
        switch self {
        case .blobUnknown(let d): return "blob \(d) is unknown to this repository; upload it first"
        case .blobUploadInvalid(let reason, _): return "blob upload invalid: \(reason)"
        case .blobUploadUnknown(let id): return "upload \(id) is unknown: it finished, was cancelled or expired; start a new one"
        case .digestInvalid(let reason): return "digest invalid: \(reason)"
        case .manifestBlobUnknown(let d): return "the manifest references \(d), which this repository does not hold; push it first"
        case .manifestInvalid(let reason): return "manifest invalid: \(reason)"
        case .manifestTooLarge(let limit): return "manifest is larger than the \(limit) bytes this registry accepts"
        case .manifestUnknown(let r): return "manifest \(r) is unknown to this repository"
        case .nameInvalid(let n): return "invalid repository name \"\(n)\": use lowercase components [a-z0-9] separated by ., _, __, - or /"
        case .nameUnknown(let n): return "repository \(n) is not known to this registry"
        case .sizeInvalid(let reason): return "size invalid: \(reason)"
        case .tagInvalid(let t): return "invalid tag \"\(t)\": use [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
        case .rangeNotSatisfiable(let size): return "the requested range is outside the blob's \(size) bytes"
        case .unauthorized: return "authentication required: give a valid user name and password"
        case .unsupported(let reason, _): return reason
        case .storage(let reason): return "the registry's store failed: \(reason)"
        case .rootInUse(let root): return "\(root) is in use by another berth-registry (serve, gc or replicate); stop it first"
        case .htpasswdInvalid(let path, let reason): return "htpasswd file \(path): \(reason)"
        }
    }

    /// The body the spec prescribes: `{"errors":[{"code":…,"message":…,"detail":…}]}`.
    public var body: [UInt8] {
        struct Entry: Encodable { var code: String; var message: String; var detail: [String: String] }
        struct Body: Encodable { var errors: [Entry] }
        let entry = Entry(code: code, message: description, detail: [:])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(Body(errors: [entry]))).map(Array.init) ?? Array("{\"errors\":[]}".utf8)) + [0x0a]
    }
}
