import DockerConfig
import ArgumentParser
import BerthSystem
import FoundationEssentials
import Glibc
import OCI

/// `berth image referrers IMAGE`: the artifacts (signatures, SBOMs …) that refer to an image's
/// manifest in its registry, through the referrers API or, where the registry lacks it, the
/// referrers tag.
struct ImageReferrersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "referrers", abstract: "List the artifacts that refer to an image in its registry")

    @Option(name: .customLong("artifact-type"), help: "Only artifacts of this type")
    var artifactType: String?
    @Flag(name: [.short, .long], help: "Only show digests")
    var quiet = false
    @Argument(help: "NAME[:TAG|@DIGEST] in a registry")
    var image: String

    func run() throws {
        let parsed = try ImageName.parse(image)
        var query = Query()
        if let artifactType { query.add("artifactType", artifactType) }
        let auth = try AuthConfigFile.standard().registryAuthHeader(forDomain: parsed.domain)
        let bytes = try Berth.client().call("GET", "/distribution/\(Query.escapePath(parsed.description))/referrers",
                                            query: query, headers: [("X-Registry-Auth", auth)])
        struct Answer: Decodable {
            var Descriptor: OCI.Descriptor
            var Referrers: [OCI.Descriptor]
        }
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: Data(bytes))
        } catch {
            throw CLIError.protocolViolation("unexpected JSON from GET /distribution/…/referrers: \(error)")
        }
        if quiet {
            try Console.out(answer.Referrers.map { $0.digest.description + "\n" }.joined())
            return
        }
        var table = Table(header: ["DIGEST", "ARTIFACT TYPE", "SIZE", "CREATED"])
        for referrer in answer.Referrers {
            table.append([referrer.digest.description, referrer.artifactType ?? "", ByteSize.humanSize(referrer.size),
                          referrer.annotations?["org.opencontainers.image.created"] ?? ""])
        }
        try Console.out(table.rendered)
    }
}

/// `berth image attach --artifact-type T IMAGE FILE`: pushes FILE to the image's registry as an
/// artifact that refers to the image's manifest; prints the artifact manifest's digest.
struct ImageAttach: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attach", abstract: "Attach a file to an image in its registry as an OCI artifact")

    @Option(name: .customLong("artifact-type"), help: "What the artifact is, e.g. application/spdx+json")
    var artifactType: String
    @Option(name: .customLong("media-type"), help: "Media type of the file (default application/octet-stream)")
    var mediaType: String?
    @Option(name: .customLong("annotation"), help: "KEY=VALUE annotation of the artifact (repeatable)")
    var annotations: [String] = []
    @Argument(help: "NAME[:TAG|@DIGEST] in a registry")
    var image: String
    @Argument(help: "The file to attach")
    var file: String

    func run() throws {
        let parsed = try ImageName.parse(image)
        let input = try InputFile(path: file)
        var query = Query()
        query.add("artifactType", artifactType)
        if let mediaType { query.add("mediaType", mediaType) }
        if file != "-" { query.add("title", String(file.split(separator: "/").last ?? Substring(file))) }
        var created = false
        for annotation in annotations {
            guard let equals = annotation.firstIndex(of: "="), equals != annotation.startIndex else {
                throw CLIError.invalidFlag(command: "image attach", value: annotation, flag: "--annotation", reason: "expected KEY=VALUE")
            }
            created = created || annotation[..<equals] == "org.opencontainers.image.created"
            query.add("annotation", annotation)
        }
        if !created { query.add("annotation", "org.opencontainers.image.created=" + Timestamp(seconds: Timestamp.now().seconds).rfc3339Nano) }
        let auth = try AuthConfigFile.standard().registryAuthHeader(forDomain: parsed.domain)
        let bytes = try Berth.client().call("POST", "/distribution/\(Query.escapePath(parsed.description))/referrers", query: query,
                                            body: .stream(fd: input.fd, contentType: "application/octet-stream"),
                                            headers: [("X-Registry-Auth", auth)])
        struct Answer: Decodable { var Descriptor: OCI.Descriptor }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(bytes)) else {
            throw CLIError.protocolViolation("unexpected JSON from POST /distribution/…/referrers")
        }
        try Console.out(answer.Descriptor.digest.description + "\n")
    }
}
