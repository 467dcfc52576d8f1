import Glibc

/// The address of the daemon: `-H`/`--host`, else `BERTH_HOST`, else
/// `unix:///run/berth/berth.sock`. Only Unix sockets are supported.
struct DaemonHost {
    /// The default address of berthd's socket.
    static let defaultAddress = "unix:///run/berth/berth.sock"
    /// The environment variable that overrides the default address.
    static let environmentVariable = "BERTH_HOST"

    /// The address as the user wrote it (`unix:///run/berth/berth.sock`).
    let address: String
    /// The socket's path.
    let socketPath: String

    /// Parses `unix:///path` (or a bare absolute path).
    init(parsing address: String) throws {
        if address.hasPrefix("unix://") {
            socketPath = String(address.dropFirst("unix://".count))
        } else if address.hasPrefix("/") {
            socketPath = address
        } else {
            throw CLIError.failed("unable to parse daemon host \"\(address)\": only unix:///path is supported")
        }
        guard !socketPath.isEmpty else { throw CLIError.failed("unable to parse daemon host \"\(address)\": empty socket path") }
        self.address = address.hasPrefix("/") ? "unix://" + address : address
    }

    /// The host named by the environment, or the default.
    static func fromEnvironment() throws -> DaemonHost {
        if let value = getenv(environmentVariable), case let text = String(cString: value), !text.isEmpty {
            return try DaemonHost(parsing: text)
        }
        return try DaemonHost(parsing: defaultAddress)
    }
}
