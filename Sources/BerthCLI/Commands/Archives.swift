import ArgumentParser
import Glibc

/// `berth import`: create an image from a filesystem tarball (file, URL or `-` for stdin).
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import the contents from a tarball to create a filesystem image")

    @Option(name: .shortAndLong, help: "Apply Dockerfile instruction to the created image")
    var change: [String] = []

    @Option(name: .shortAndLong, help: "Set commit message for imported image")
    var message: String?

    @Option(name: .long, help: "Set platform if server is multi-platform capable")
    var platform: String?

    @Argument(help: "FILE|URL|-")
    var source: String

    @Argument(help: "REPOSITORY[:TAG]")
    var repository: String?

    func run() throws {
        var query = Query()
        let isURL = source.hasPrefix("http://") || source.hasPrefix("https://")
        query.add("fromSrc", isURL ? source : "-")
        if let message { query.add("message", message) }
        if let repository {
            _ = try ImageName.parse(repository)
            query.add("repo", repository)
        }
        for instruction in change { query.add("changes", instruction) }
        if let platform { query.add("platform", platform) }
        let client = try Berth.client()
        let response: DaemonClient.Response
        if isURL {
            response = try client.send("POST", "/images/create", query: query)
        } else {
            let input = try InputFile(path: source)
            response = try client.send("POST", "/images/create", query: query,
                                       body: .stream(fd: input.fd, contentType: "application/x-tar"))
        }
        var printer = JSONMessagePrinter(terminal: Console.isTerminal(STDOUT_FILENO), outputFD: STDOUT_FILENO)
        try printer.print(response.body)
    }
}

/// `berth load`: load images from a tar archive (docker-save or OCI layout).
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load an image from a tar archive or STDIN")

    @Option(name: .shortAndLong, help: "Read from tar archive file, instead of STDIN")
    var input: String?

    @Flag(name: .shortAndLong, help: "Suppress the load output")
    var quiet = false

    func run() throws {
        if input == nil && Console.isTerminal(STDIN_FILENO) {
            throw CLIError.failed("requested load from stdin, but stdin is empty")
        }
        let file = try InputFile(path: input ?? "-")
        var query = Query()
        query.add("quiet", flag: quiet || !Console.isTerminal(STDOUT_FILENO))
        let response = try Berth.client().send("POST", "/images/load", query: query,
                                               body: .stream(fd: file.fd, contentType: "application/x-tar"))
        var printer = JSONMessagePrinter(terminal: Console.isTerminal(STDOUT_FILENO), outputFD: STDOUT_FILENO)
        try printer.print(response.body)
    }
}

/// `berth save`: write images as a tar archive to a file or stdout.
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save one or more images to a tar archive (streamed to STDOUT by default)")

    @Option(name: .shortAndLong, help: "Write to a file, instead of STDOUT")
    var output: String?

    @Option(name: .long, help: "Archive format: oci or docker (default: the daemon's)")
    var format: String?

    @Argument(help: "Images to save")
    var images: [String]

    func run() throws {
        if let format, format != "oci", format != "docker" {
            throw CLIError.invalidFlag(command: "save", value: format, flag: "--format", reason: "must be \"oci\" or \"docker\"")
        }
        if output == nil && Console.isTerminal(STDOUT_FILENO) {
            throw CLIError.failed("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        }
        var query = Query()
        for image in images { query.add("names", image) }
        if let format { query.add("format", format) }
        let response = try Berth.client().send("GET", "/images/get", query: query)
        try OutputFile.copy(response, to: output)
    }
}

/// A local file to stream into a request body; `-` is stdin.
final class InputFile {
    /// The descriptor to read.
    let fd: Int32
    private let owned: Bool

    /// Opens `path` for reading (`-` means stdin).
    init(path: String) throws {
        if path == "-" {
            fd = STDIN_FILENO
            owned = false
            return
        }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.system(operation: "open \(path)", errno: errno) }
        owned = true
    }

    deinit { if owned { close(fd) } }
}

/// A file written next to its destination and renamed into place only when complete, so an
/// interrupted `save -o` never leaves a truncated archive under the requested name.
final class OutputFile {
    /// The descriptor to write.
    let fd: Int32
    private let path: String
    private let temporary: String
    private var committed = false

    /// Creates the temporary file for `path`.
    init(path: String) throws {
        self.path = path
        temporary = "\(path).berth-\(getpid()).tmp"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError.system(operation: "open \(path)", errno: errno) }
    }

    /// Copies the body of `response` to standard output (`path` nil) or into `path` whole.
    static func copy(_ response: DaemonClient.Response, to path: String?) throws {
        guard let path else {
            while let bytes = try response.body.next() { try FDIO.write(STDOUT_FILENO, bytes) }
            return
        }
        let file = try OutputFile(path: path)
        while let bytes = try response.body.next() { try FDIO.write(file.fd, bytes) }
        try file.commit()
    }

    /// Flushes the data and moves the file to its final name.
    func commit() throws {
        guard fsync(fd) == 0 else { throw CLIError.system(operation: "write \(path)", errno: errno) }
        guard rename(temporary, path) == 0 else { throw CLIError.system(operation: "rename \(path)", errno: errno) }
        committed = true
    }

    deinit {
        close(fd)
        if !committed { unlink(temporary) }
    }
}

/// `berth export`: a container's file system as a tar archive.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a container's filesystem as a tar archive")

    @Option(name: .shortAndLong, help: "Write to a file, instead of STDOUT")
    var output: String?

    @Argument(help: "Container")
    var container: String

    func run() throws {
        if output == nil && Console.isTerminal(STDOUT_FILENO) {
            throw CLIError.failed("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        }
        let response = try Berth.client().send("GET", "/containers/\(Query.escapePath(container))/export")
        try OutputFile.copy(response, to: output)
    }
}
