import Glibc

/// Options docker accepts before the command name (`berth -H unix:///tmp/b.sock ps`). The host
/// is handed to commands through `BERTH_HOST`, which `DaemonHost.fromEnvironment` reads.
enum GlobalOptions {
    /// Removes the leading global options from `arguments`, applying them, and returns the rest.
    static func extract(from arguments: [String]) -> Result<[String], CLIError> {
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("-") {
            var value: String?
            if first == "-H" || first == "--host" {
                rest = rest.dropFirst()
                guard let next = rest.first else {
                    return .failure(.usage(command: "", message: "flag needs an argument: \(first)"))
                }
                value = next
            } else if first.hasPrefix("--host=") {
                value = String(first.dropFirst("--host=".count))
            } else if first.hasPrefix("-H"), first.count > 2 {
                value = String(first.dropFirst(first.hasPrefix("-H=") ? 3 : 2))
            } else {
                break
            }
            if let value {
                do {
                    _ = try DaemonHost(parsing: value)
                } catch let error as CLIError {
                    return .failure(error)
                } catch {
                    return .failure(.failed("\(error)"))
                }
                setenv(DaemonHost.environmentVariable, value, 1)
            }
            rest = rest.dropFirst()
        }
        return .success(Array(rest))
    }
}
