import DockerConfig
import ArgumentParser
import OCI

/// Pulling an image (`POST /images/create?fromImage=&tag=`), shared by `pull` and by `run` when
/// the image is missing.
enum ImagePull {
    /// base64url of `{}`: the empty registry credentials docker always sends.
    static let emptyAuth = "e30="

    /// Pulls `reference` (for `platform`, `os/arch[/variant]`, when given) with the stored
    /// login for its registry, printing docker's progress lines to `outputFD` (nothing with
    /// `quiet`).
    static func pull(_ client: DaemonClient, reference: String, platform: String? = nil, quiet: Bool = false, outputFD: Int32) throws {
        let parsed = try ImageName.parse(reference)
        var query = Query()
        query.add("fromImage", parsed.repository)
        query.add("tag", parsed.digest.map { "\($0)" } ?? parsed.tag ?? "latest")
        if let platform { query.add("platform", platform) }
        let auth = try AuthConfigFile.standard().registryAuthHeader(forDomain: parsed.domain)
        let response = try client.send("POST", "/images/create", query: query, headers: [("X-Registry-Auth", auth)])
        var printer = JSONMessagePrinter(terminal: !quiet && Console.isTerminal(outputFD), outputFD: quiet ? -1 : outputFD)
        try printer.print(response.body)
    }
}

/// `berth pull`: download an image from a registry.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download an image from a registry")

    @Option(help: "Set platform if server is multi-platform capable")
    var platform: String?
    @Flag(name: [.short, .long], help: "Suppress verbose output")
    var quiet = false
    @Argument(help: "NAME[:TAG|@DIGEST]")
    var image: String

    func run() throws {
        try ImagePull.pull(try Berth.client(), reference: image, platform: platform, quiet: quiet, outputFD: 1)
        let parsed = try? Reference(parsing: image)
        try Console.out((parsed?.description ?? image) + "\n")
    }
}

/// `berth push`: upload an image to a registry.
struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Upload an image to a registry")

    @Argument(help: "NAME[:TAG]")
    var image: String

    func run() throws {
        let parsed = try ImageName.parse(image)
        var query = Query()
        query.add("tag", parsed.tag ?? "latest")
        let auth = try AuthConfigFile.standard().registryAuthHeader(forDomain: parsed.domain)
        let response = try Berth.client().send("POST", "/images/\(Query.escapePath(parsed.familiarRepository))/push",
                                               query: query, headers: [("X-Registry-Auth", auth)])
        var printer = JSONMessagePrinter(terminal: Console.isTerminal(1), outputFD: 1)
        try printer.print(response.body)
    }
}
