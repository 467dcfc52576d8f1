import BerthCLI
import Glibc

exit(CLIEntry.run(Array(CommandLine.arguments.dropFirst())))
