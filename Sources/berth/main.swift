import ArgumentParser
import Glibc

// Writes to a closed pipe or socket must fail with EPIPE instead of killing the CLI.
signal(SIGPIPE, SIG_IGN)

let status: Int32
switch GlobalOptions.extract(from: Array(CommandLine.arguments.dropFirst())) {
case .failure(let error):
    Console.err(error.description + "\n")
    status = error.exitStatus
case .success(let arguments):
    status = Berth.dispatch(arguments)
}
exit(status)
