import BerthSystem
import Glibc
import Registry

/// `ADD https://…`: the file a URL names, fetched by the daemon (redirects followed, at most
/// ten), stored with mode 0600 as docker stores it, named after the URL's last path component
/// (or the destination's name when the URL has none).
enum URLDownload {
    static let redirectLimit = 10

    static func fetch(_ url: String, into directory: String, fallbackName: String?) async throws -> BuildSources.Item {
        var target: HTTPURL
        do {
            target = try HTTPURL(parsing: url)
        } catch {
            throw BuildError.dockerfile("invalid URL \(url): \(error)")
        }
        let pathPart = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        let afterHost = pathPart.split(separator: "/", omittingEmptySubsequences: true).dropFirst(2)
        guard let name = afterHost.last.map(String.init) ?? fallbackName, !name.isEmpty, name != ".", name != ".." else {
            throw BuildError.dockerfile("cannot determine filename from url: \(url)")
        }
        try FileSystem.makeDirectories(directory, mode: 0o700)
        let path = directory + "/" + name
        let client = HTTPClient()
        for _ in 0...redirectLimit {
            let current = target
            let next: HTTPURL? = try await client.execute(HTTPRequest(.GET, current)) { response, body in
                if (300..<400).contains(response.status), let location = response.header("Location") {
                    return try current.resolving(location)
                }
                guard response.status == 200 else {
                    throw BuildError.dockerfile("failed to GET \(url) with status \(response.status)")
                }
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw EngineError.failure("cannot write \(path): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                while let chunk = try await body.next() {
                    try FileSystem.writeAll(fd, Array(chunk.readableBytesView))
                }
                return nil
            }
            guard let next else {
                chmod(path, 0o600)
                return BuildSources.Item(hostPath: path, name: name, isDirectory: false)
            }
            target = next
        }
        throw BuildError.dockerfile("failed to GET \(url): more than \(redirectLimit) redirects")
    }
}
