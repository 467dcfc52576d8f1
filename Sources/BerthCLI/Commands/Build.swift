import ArgumentParser
import struct Builder.DockerIgnore
import Dispatch
import FoundationEssentials
import Glibc
import LayerArchive
import Synchronization

/// `berth build`: sends a context directory (or a tar or Dockerfile on stdin) to berthd's
/// builder and prints its steps as docker's classic builder does.
struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image from a Dockerfile")

    @Option(name: .shortAndLong, help: "Name and optionally a tag in the 'name:tag' format")
    var tag: [String] = []

    @Option(name: .shortAndLong, help: "Name of the Dockerfile (default: 'PATH/Dockerfile')")
    var file: String?

    @Option(name: .long, help: "Set build-time variables")
    var buildArg: [String] = []

    @Option(name: .long, help: "Set metadata for an image")
    var label: [String] = []

    @Option(name: .long, help: "Set the target build stage to build")
    var target: String?

    @Flag(name: .long, help: "Do not use cache when building the image")
    var noCache = false

    @Option(name: .long, help: "Images to consider as cache sources")
    var cacheFrom: [String] = []

    @Flag(name: .long, help: "Always attempt to pull a newer version of the image")
    var pull = false

    @Flag(name: .shortAndLong, help: "Suppress the build output and print image ID on success")
    var quiet = false

    @Option(name: .long, help: "Write the image ID to the file")
    var iidfile: String?

    @Option(name: .long, help: "Set the networking mode for the RUN instructions during build")
    var network: String?

    @Option(name: .long, help: "Add a custom host-to-IP mapping (host:ip)")
    var addHost: [String] = []

    @Option(name: .long, help: "Size of /dev/shm")
    var shmSize: String?

    @Option(name: .long, help: "Remove intermediate containers after a successful build")
    var rm: Bool = true

    @Flag(name: .long, help: "Always remove intermediate containers")
    var forceRm = false

    @Option(name: .long, help: "Set type of progress output (auto, plain)")
    var progress = "auto"

    @Option(name: .long, help: "Set platform if server is multi-platform capable")
    var platform: String?

    @Option(name: .long, help: "Secret to expose to the build (format: \"id=mysecret[,src=/local/secret]\")")
    var secret: [String] = []

    @Argument(help: "PATH | -")
    var context: String

    func run() throws {
        var query = Query()
        for tag in tag {
            _ = try ImageName.parse(tag)
            query.add("t", tag)
        }
        var args: [String: String] = [:]
        for entry in buildArg {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            // `--build-arg NAME` takes NAME's value from this environment, as docker does.
            if parts.count == 2 { args[parts[0]] = parts[1] } else if let value = getenv(parts[0]) { args[parts[0]] = String(cString: value) }
        }
        if !args.isEmpty { query.add("buildargs", try Self.json(args)) }
        var labels: [String: String] = [:]
        for entry in label {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            labels[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        if !labels.isEmpty { query.add("labels", try Self.json(labels)) }
        if let target { query.add("target", target) }
        query.add("nocache", flag: noCache)
        if !cacheFrom.isEmpty { query.add("cachefrom", String(decoding: try JSONEncoder().encode(cacheFrom), as: UTF8.self)) }
        query.add("pull", flag: pull)
        query.add("q", flag: quiet)
        query.add("rm", rm ? "1" : "0")
        query.add("forcerm", flag: forceRm)
        if let network { query.add("networkmode", network) }
        for host in addHost { query.add("extrahosts", host) }
        if let size = try ByteSize.flag(shmSize, "--shm-size", command: "build") { query.add("shmsize", String(size)) }
        if let platform { query.add("platform", platform) }
        if !secret.isEmpty { query.add("secrets", try Self.json(try Self.secrets(secret))) }

        let response: DaemonClient.Response
        if context == "-" {
            let input = try InputFile(path: "-")
            if let file { query.add("dockerfile", file) }
            response = try Berth.client().send("POST", "/build", query: query, body: .stream(fd: input.fd, contentType: "application/x-tar"))
        } else {
            guard Glibc.access(context, R_OK) == 0 else { throw CLIError.failed("unable to prepare context: path \"\(context)\" not found") }
            let dockerfile = file ?? "Dockerfile"
            let excluding: (@Sendable (String) -> Bool)?
            var appended: [ArchiveFile] = []
            if let inContext = try Self.dockerfileInContext(dockerfile, context: context) {
                query.add("dockerfile", inContext)
                excluding = try Self.ignoreRules(context: context, dockerfile: inContext)
            } else {
                let added = try Self.addedDockerfile(dockerfile, context: context)
                query.add("dockerfile", added.name)
                excluding = try Self.ignoreRules(context: context, dockerfile: nil)
                appended = added.files
            }
            let files = appended
            let stream = try ContextStream { path in
                _ = try DiffWriter().writeArchive(of: context, to: path, excluding: excluding, appending: files)
            }
            do {
                response = try Berth.client().send("POST", "/build", query: query, body: .stream(fd: stream.fd, contentType: "application/x-tar"))
            } catch {
                // A context that could not be read comes first (the daemon only saw it end
                // early); a writer stopped by the pipe closing with the request does not.
                do {
                    try stream.finish()
                } catch LayerError.writeFailed(_, _) {
                }
                throw error
            }
            try stream.finish()
        }
        guard ["auto", "plain", "tty"].contains(progress) else {
            throw CLIError.invalidFlag(command: "build", value: progress, flag: "--progress", reason: "must be auto, plain or tty")
        }
        var display = BuildDisplay(timed: progress == "tty" || (progress == "auto" && Console.isTerminal(STDOUT_FILENO)))
        let clock = display.timed && !quiet ? StepClock() : nil
        defer { clock?.stop() }
        var imageID: String?
        try response.body.forEachLine { line in
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0d }) else { return }
            guard let message = try? APICoding.plainDecoder.decode(BuildLine.self, from: Data(line)) else {
                throw CLIError.protocolViolation("bad build output line \"\(String(decoding: line, as: UTF8.self))\"")
            }
            if let error = message.errorDetail?.message ?? message.error {
                clock?.stop()
                if !quiet { try Console.out(display.failed()) }
                throw CLIError.stream(message: error)
            }
            if let id = message.aux?.ID { imageID = id }
            if let text = message.stream, !quiet {
                let shown = display.render(text)
                if let clock { clock.print(shown, stepRunning: display.isStepRunning) } else { try Console.out(shown) }
            }
        }
        clock?.stop()
        if !quiet { try Console.out(display.finished()) }
        guard let imageID else { throw CLIError.protocolViolation("the daemon ended the build without an image ID") }
        if quiet { try Console.out(imageID + "\n") }
        if let iidfile {
            let fd = open(iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CLIError.system(operation: "open \(iidfile)", errno: errno) }
            defer { close(fd) }
            try FDIO.write(fd, imageID)
        }
    }

    /// What `.dockerignore` (or `<Dockerfile>.dockerignore`) keeps out of the context sent, as
    /// docker's CLI reads it; the Dockerfile and the ignore file are sent all the same (the
    /// daemon needs them, and keeps them out of COPY when excluded). `dockerfile` is nil for
    /// one from outside the context.
    static func ignoreRules(context: String, dockerfile: String?) throws -> (@Sendable (String) -> Bool)? {
        let candidates = (dockerfile.map { [$0 + ".dockerignore"] } ?? []) + [".dockerignore"]
        guard let file = candidates.first(where: { Glibc.access(context + "/" + $0, R_OK) == 0 }) else { return nil }
        let rules = DockerIgnore(parsing: String(decoding: try readFile(context + "/" + file), as: UTF8.self))
        guard !rules.isEmpty else { return nil }
        let kept: Set<String> = [dockerfile ?? file, file]
        return { path in !kept.contains(path) && rules.excludes(path) && !rules.mayIncludeBelow(path) }
    }

    /// The Dockerfile's path inside the context: `-f` relative to the working directory when
    /// it exists there, else to the context; nil for one outside the context or `-f -`.
    static func dockerfileInContext(_ dockerfile: String, context: String) throws -> String? {
        guard dockerfile != "-" else { return nil }
        let root = absolute(context)
        let candidate = Glibc.access(dockerfile, F_OK) == 0 && dockerfile.contains("/") ? absolute(dockerfile) : absolute(context + "/" + dockerfile)
        guard candidate.hasPrefix(root + "/") else { return nil }
        return String(candidate.dropFirst(root.count + 1))
    }

    /// A Dockerfile from outside the context (or stdin for `-f -`) sent as docker's CLI sends
    /// it: under a random name `.dockerfile.<20 hex>` added to the context, with that name
    /// appended to the context's `.dockerignore` so COPY never sees it.
    static func addedDockerfile(_ dockerfile: String, context: String) throws -> (name: String, files: [ArchiveFile]) {
        let path = dockerfile == "-" ? "-" : Glibc.access(dockerfile, F_OK) == 0 ? dockerfile : context + "/" + dockerfile
        guard path == "-" || Glibc.access(path, R_OK) == 0 else {
            throw CLIError.failed("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat \(absolute(path)): no such file or directory")
        }
        let name = ".dockerfile." + (0..<20).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
        var ignore = Glibc.access(context + "/.dockerignore", R_OK) == 0 ? try readFile(context + "/.dockerignore") : []
        ignore += Array("\n\(name)\n".utf8)
        return (name, [ArchiveFile(path: name, bytes: try readFile(path)), ArchiveFile(path: ".dockerignore", bytes: ignore)])
    }

    private static func absolute(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let input = try InputFile(path: path)
        var bytes: [UInt8] = []
        while case let piece = try FDIO.read(input.fd), !piece.isEmpty { bytes += piece }
        return bytes
    }

    /// `id=NAME[,src=FILE|,env=VAR]` (docker's forms; `src` defaults to a file named NAME,
    /// `env` reads this environment): contents by ID, base64.
    static func secrets(_ specs: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for spec in specs {
            var fields: [String: String] = [:]
            for field in spec.split(separator: ",") {
                let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw CLIError.invalidFlag(command: "build", value: spec, flag: "--secret", reason: "expected id=NAME,src=FILE") }
                fields[parts[0]] = parts[1]
            }
            guard let id = fields["id"], !id.isEmpty else {
                throw CLIError.invalidFlag(command: "build", value: spec, flag: "--secret", reason: "a secret needs an id")
            }
            let bytes: [UInt8]
            if let variable = fields["env"] {
                guard let value = getenv(variable) else { throw CLIError.failed("secret \(id): environment variable \(variable) is not set") }
                bytes = Array(String(cString: value).utf8)
            } else {
                let path = fields["src"] ?? fields["source"] ?? id
                let file = try InputFile(path: path)
                var content: [UInt8] = []
                while case let piece = try FDIO.read(file.fd), !piece.isEmpty {
                    content += piece
                    guard content.count <= 500_000 else { throw CLIError.failed("secret \(id) is larger than 500 kB") }
                }
                bytes = content
            }
            result[id] = Data(bytes).base64EncodedString()
        }
        return result
    }

    private static func json(_ value: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}

/// A context tar made while it is sent: a thread writes it into a pipe whose other end is the
/// request body, so making and sending overlap and nothing is staged on disk.
final class ContextStream: @unchecked Sendable {
    /// The end the request body is read from.
    let fd: Int32
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?
    private var finished = false

    /// Starts `write` on another thread with the path of the pipe's writing end.
    init(_ write: @escaping @Sendable (String) throws -> Void) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw CLIError.system(operation: "pipe", errno: errno) }
        fd = ends[0]
        let writer = ends[1]
        // Not inherited by anything the client starts (credential helpers).
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writer, F_SETFD, FD_CLOEXEC)
        DispatchQueue.global().async { [self] in
            do {
                try write("/proc/self/fd/\(writer)")
            } catch {
                failure = error
            }
            close(writer)
            done.signal()
        }
    }

    /// Closes the reading end (a writer still writing then fails at once) and waits for the
    /// writer; rethrows its error.
    func finish() throws {
        guard !finished else { return }
        finished = true
        close(fd)
        done.wait()
        if let failure { throw failure }
    }
}

/// How `berth build` shows the daemon's step texts: as they come (plain), or on a terminal
/// with each step's time after its result line and the whole build's at the end.
struct BuildDisplay {
    let timed: Bool
    private let started = BuildDisplay.now()
    private var stepStarted: Double?

    init(timed: Bool) {
        self.timed = timed
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// The text to print for one `stream` piece.
    mutating func render(_ text: String) -> String {
        guard timed else { return text }
        if text.hasPrefix("Step ") {
            stepStarted = Self.now()
            return "\u{1b}[1m" + String(text.filter { $0 != "\n" }) + "\u{1b}[0m\n"
        }
        if text.hasPrefix(" ---> "), !text.hasPrefix(" ---> Running in"), !text.hasPrefix(" ---> Using cache"), let begun = stepStarted {
            stepStarted = nil
            return String(text.filter { $0 != "\n" }) + "  \u{1b}[2m\(Self.seconds(Self.now() - begun))\u{1b}[0m\n"
        }
        return text
    }

    /// Whether a step has begun and not yet shown its result.
    var isStepRunning: Bool { stepStarted != nil }

    /// The closing line of a build that succeeded.
    func finished() -> String {
        timed ? "\u{1b}[2mbuilt in \(Self.seconds(Self.now() - started))\u{1b}[0m\n" : ""
    }

    /// The closing line of a build that failed.
    func failed() -> String {
        guard timed, let begun = stepStarted else { return "" }
        return "\u{1b}[31mstep failed after \(Self.seconds(Self.now() - begun))\u{1b}[0m\n"
    }
}

/// On a terminal, the running step's clock: a status line under the output, redrawn every
/// 100 ms while a step runs (and only where a line has ended), cleared before anything else is
/// printed and when the build ends.
final class StepClock: @unchecked Sendable {
    private struct State {
        var running = false
        var started = 0.0
        var drawn = false
        var atLineStart = true
        var stopped = false
    }

    private let state = Mutex(State())
    private let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "berth.build.clock"))

    init() {
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.draw() }
        timer.resume()
    }

    /// Prints `text` above the status line; `stepRunning` says whether a step is now running.
    func print(_ text: String, stepRunning: Bool) {
        state.withLock { state in
            let out = (state.drawn ? "\r\u{1b}[K" : "") + text
            state.drawn = false
            if !text.isEmpty { state.atLineStart = text.hasSuffix("\n") }
            if stepRunning && !state.running { state.started = BuildDisplay.now() }
            state.running = stepRunning
            try? FDIO.write(STDOUT_FILENO, out)
        }
    }

    /// Clears the status line and stops redrawing it.
    func stop() {
        timer.cancel()
        state.withLock { state in
            if state.drawn { try? FDIO.write(STDOUT_FILENO, "\r\u{1b}[K") }
            state.drawn = false
            state.stopped = true
        }
    }

    private func draw() {
        state.withLock { state in
            guard state.running, state.atLineStart, !state.stopped else { return }
            try? FDIO.write(STDOUT_FILENO, "\r\u{1b}[K\u{1b}[2m  running \(BuildDisplay.seconds(BuildDisplay.now() - state.started))\u{1b}[0m")
            state.drawn = true
        }
    }
}

/// One line of the build stream: docker's `jsonmessage` with the build's `aux`.
private struct BuildLine: Decodable {
    struct Aux: Decodable { let ID: String? }
    struct ErrorDetail: Decodable { let message: String? }
    let stream: String?
    let aux: Aux?
    let error: String?
    let errorDetail: ErrorDetail?
}

/// `berth builder prune`: removes the build cache.
struct BuilderPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove build cache")

    @Flag(name: .shortAndLong, help: "Remove all unused build cache, not just dangling ones")
    var all = false

    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false

    func run() throws {
        var query = Query()
        query.add("all", flag: all)
        let response = try Berth.client().send("POST", "/build/prune", query: query)
        let body = try APICoding.plainDecoder.decode(BuildPruneAnswer.self, from: Data(try response.body.readAll()))
        for id in body.CachesDeleted ?? [] { try Console.out("Deleted: \(id)\n") }
        try Console.out("Total:\t\(ByteSize.humanSize(body.SpaceReclaimed ?? 0))\n")
    }
}

private struct BuildPruneAnswer: Decodable {
    let CachesDeleted: [String]?
    let SpaceReclaimed: Int64?
}

/// `berth builder`: the build cache.
struct BuilderGroup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "builder", abstract: "Manage builds", subcommands: [Build.self, BuilderPrune.self])
}
