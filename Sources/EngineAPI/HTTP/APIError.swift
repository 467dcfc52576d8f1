import ContentStore
import Engine
import NIOHTTP1
import OCI
import Registry
import Snapshots
import LayerArchive

/// Errors the API layer itself raises (bad query values, unknown routes).
public enum APIError: Error, CustomStringConvertible, Sendable {
    case badRequest(String)
    case notFound(String)
    case forbidden(String)
    /// 501: something the configuration makes impossible (reading a `none` log).
    case notImplemented(String)

    public var description: String {
        switch self {
        case .badRequest(let s), .notFound(let s), .forbidden(let s), .notImplemented(let s): return s
        }
    }
}

/// The one place that maps errors to docker's status codes (DESIGN.md: "errors as
/// `{"message": …}` with the right status").
enum ErrorMapping {
    static func status(for error: Error) -> HTTPResponseStatus {
        switch error {
        case let e as EngineError:
            switch e {
            case .noSuchContainer, .noSuchImage, .noSuchExec, .noSuchVolume, .noSuchNetwork, .noSuchPath: return .notFound
            case .forbidden: return .forbidden
            case .nameInUse, .notRunning, .containerRunning, .imageInUse, .conflict: return .conflict
            case .invalidParameter, .commandNotFound, .commandNotExecutable: return .badRequest
            case .failure: return .internalServerError
            case .notModified: return .notModified
            }
        case let e as APIError:
            switch e {
            case .badRequest: return .badRequest
            case .notFound: return .notFound
            case .forbidden: return .forbidden
            case .notImplemented: return .notImplemented
            }
        case let e as RegistryError:
            switch e {
            case .manifestUnknown, .blobUnknown, .noMatchingPlatform: return .notFound
            case .unauthorized: return .unauthorized
            case .denied: return .forbidden
            default: return .internalServerError
            }
        case is OCIError: return .badRequest
        case is LayerError: return .badRequest
        case is ContentError: return .internalServerError
        default: return .internalServerError
        }
    }

    static func response(for error: Error) -> APIResponse {
        let status = status(for: error)
        if status == .notModified { return .empty(.notModified) }
        return .json(status, ["message": "\(error)"])
    }
}
