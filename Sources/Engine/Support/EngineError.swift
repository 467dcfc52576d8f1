/// What went wrong in the engine, in words a user can act on. The API maps each case to
/// docker's status code in one place (`EngineAPI/ErrorMapping.swift`).
public enum EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 404: no container by that id, prefix or name.
    case noSuchContainer(String)
    /// 404: no image by that name or id.
    case noSuchImage(String)
    /// 404: no exec instance.
    case noSuchExec(String)
    /// 404: no volume of that name.
    case noSuchVolume(String)
    /// 404: no network by that id, name or id prefix.
    case noSuchNetwork(String)
    /// 404: no file at that path in the container.
    case noSuchPath(container: String, path: String)
    /// 403: a write the container's configuration forbids (read-only root or volume).
    case forbidden(String)
    /// 409: a name already taken.
    case nameInUse(name: String, id: String)
    /// 409: an operation that needs a running container.
    case notRunning(String)
    /// 409: removing a running container without force.
    case containerRunning(String)
    /// 409: removing an image a container uses.
    case imageInUse(reference: String, imageID: String, containerID: String)
    /// 409: any other conflict, message as docker words it.
    case conflict(String)
    /// 400: a bad parameter.
    case invalidParameter(String)
    /// 400: the command given does not exist or cannot be run (docker exit 127 / 126).
    case commandNotFound(String)
    case commandNotExecutable(String)
    /// 500: anything else, with the underlying reason.
    case failure(String)
    /// 304: start of a running container, stop of a stopped one.
    case notModified

    public var description: String {
        switch self {
        case .noSuchContainer(let s): return "No such container: \(s)"
        case .noSuchImage(let s): return "No such image: \(s)"
        case .noSuchExec(let s): return "No such exec instance: \(s)"
        case .noSuchVolume(let s): return "get \(s): no such volume"
        case .noSuchNetwork(let s): return "network \(s) not found"
        case .noSuchPath(let container, let path): return "Could not find the file \(path) in container \(container)"
        case .forbidden(let s): return s
        case .nameInUse(let name, let id):
            return "Conflict. The container name \"/\(name)\" is already in use by container \"\(id)\". You have to remove (or rename) that container to be able to reuse that name."
        case .notRunning(let id): return "Container \(id) is not running"
        case .containerRunning(let id):
            return "You cannot remove a running container \(id). Stop the container before attempting removal or force remove"
        case .imageInUse(let ref, let image, let container):
            return "conflict: unable to remove repository reference \"\(ref)\" (must force) - container \(String(container.prefix(12))) is using its referenced image \(String(image.prefix(12)))"
        case .conflict(let s): return s
        case .invalidParameter(let s): return s
        case .commandNotFound(let cmd):
            return "failed to create task for container: exec: \"\(cmd)\": executable file not found in $PATH: unknown"
        case .commandNotExecutable(let cmd):
            return "failed to create task for container: exec: \"\(cmd)\": permission denied: unknown"
        case .failure(let s): return s
        case .notModified: return "not modified"
        }
    }
}
