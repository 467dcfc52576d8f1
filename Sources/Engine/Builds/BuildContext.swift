import BerthSystem
import Builder
import Glibc

/// A build's context: the directory the client's tar was unpacked into (by the layer code, so
/// no entry lies outside it), with the `.dockerignore` rules applied. Files are read inside it
/// only (`ContainerFiles`' rooted resolution), so no link in the context reaches a host file.
struct BuildContext: Sendable {
    let directory: String

    /// The largest Dockerfile read (docker's frontends refuse far smaller ones in practice).
    static let dockerfileLimit = 4 << 20

    /// The Dockerfile at `path` (relative to the context; `..` cannot leave it), as text.
    func dockerfile(at path: String) throws -> String {
        guard let location = try? ContainerFiles(rootfs: directory, mounts: [], readOnlyRootfs: true).resolve(path, followFinal: true) else {
            throw BuildError.noDockerfile(path)
        }
        let hostPath = ([location.root] + location.relative).joined(separator: "/")
        var st = stat()
        guard !location.relative.isEmpty, stat(hostPath, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw BuildError.noDockerfile(path)
        }
        guard st.st_size <= Self.dockerfileLimit else {
            throw BuildError.dockerfile("the Dockerfile \(path) is \(st.st_size) bytes; at most \(Self.dockerfileLimit) are read")
        }
        return String(decoding: try FileSystem.readFile(hostPath), as: UTF8.self)
    }

    /// Keeps the Dockerfile and the ignore file (`<Dockerfile>.dockerignore` beside the
    /// Dockerfile wins over `.dockerignore`, as in docker) out of COPY when the rules exclude
    /// them; everything else the rules exclude was left out by the client that made the
    /// context (docker's CLI, docker-py and `berth build` do), as dockerd leaves it to them.
    func applyIgnoreRules(dockerfile: String) throws {
        let specific = dockerfile + ".dockerignore"
        let rulesFile = [specific, ".dockerignore"].first { isRegularFile($0) }
        guard let rulesFile else { return }
        let text = String(decoding: try FileSystem.readFile(directory + "/" + Paths.components(rulesFile).joined(separator: "/")), as: UTF8.self)
        let rules = DockerIgnore(parsing: text)
        do {
            try rules.validate()
        } catch {
            throw BuildError.dockerfile("\(rulesFile): \(error)")
        }
        for file in [dockerfile, rulesFile] where rules.excludes(Paths.components(file).joined(separator: "/")) {
            // Resolved inside the context, so a link on the way cannot lead the removal out.
            guard let location = try? ContainerFiles(rootfs: directory, mounts: [], readOnlyRootfs: true).resolve(file, followFinal: false),
                  !location.relative.isEmpty else { continue }
            unlink(([location.root] + location.relative).joined(separator: "/"))
        }
    }

    private func isRegularFile(_ relative: String) -> Bool {
        guard let location = try? ContainerFiles(rootfs: directory, mounts: [], readOnlyRootfs: true).resolve(relative, followFinal: false),
              !location.relative.isEmpty else { return false }
        var st = stat()
        return lstat(([location.root] + location.relative).joined(separator: "/"), &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }
}
