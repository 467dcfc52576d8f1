import Glibc

/// The whole `berth` program behind one call, so `main.swift` stays a single line and the rest
/// can live in a library target that tests import.
public enum CLIEntry {
    /// Runs the command line `arguments` (without the program name) and returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        // Writes to a closed pipe or socket must fail with EPIPE instead of killing the CLI.
        signal(SIGPIPE, SIG_IGN)
        switch GlobalOptions.extract(from: arguments) {
        case .failure(let error):
            Console.err(error.description + "\n")
            return error.exitStatus
        case .success(let rest):
            return Berth.dispatch(rest)
        }
    }
}
