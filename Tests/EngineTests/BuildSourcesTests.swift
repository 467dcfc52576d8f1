import BerthSystem
import Glibc
import Testing
@testable import Engine

/// COPY sources in a real directory: matching inside the tree, the content hash the cache keys
/// on, and `.dockerignore` pruning of a context.
@Suite struct BuildSourcesTests {
    private func tree(_ files: [String: String]) throws -> String {
        let root = "/tmp/berth-sources-\(UInt64.random(in: 0...UInt64.max))"
        for (name, content) in files {
            let path = root + "/" + name
            try FileSystem.makeDirectories(FileSystem.parent(of: path))
            try FileSystem.writeAtomically(path, bytes: Array(content.utf8), mode: 0o644, durable: false)
        }
        try FileSystem.makeDirectories(root)
        return root
    }

    @Test func globsMatchPerComponentAndPlainNamesMustExist() throws {
        let root = try tree(["a.txt": "a", "b.txt": "b", "c.md": "c", "sub/d.txt": "d"])
        defer { try? FileSystem.removeTree(root) }
        let matched = try BuildSources(root: root, patterns: ["*.txt", "sub/*.txt"], instruction: "COPY").items.map(\.name)
        #expect(matched == ["a.txt", "b.txt", "d.txt"])
        #expect(throws: BuildError.sourceNotFound(instruction: "COPY", path: "missing")) {
            try BuildSources(root: root, patterns: ["missing"], instruction: "COPY")
        }
        #expect(throws: BuildError.self) { try BuildSources(root: root, patterns: ["*.none"], instruction: "COPY") }
    }

    @Test func parentReferencesAndLinksStayInsideTheTree() throws {
        let root = try tree(["inside.txt": "in"])
        defer { try? FileSystem.removeTree(root) }
        let outside = try tree(["secret": "host"])
        defer { try? FileSystem.removeTree(outside) }
        #expect(symlink(outside + "/secret", root + "/abs") == 0)
        #expect(symlink("../../../../" + outside + "/secret", root + "/rel") == 0)
        #expect(symlink("/inside.txt", root + "/rooted") == 0)
        for escaping in ["abs", "rel", "../" + String(outside.split(separator: "/").last ?? "") + "/secret"] {
            #expect(throws: BuildError.self) { try BuildSources(root: root, patterns: [escaping], instruction: "COPY") }
        }
        let followed = try BuildSources(root: root, patterns: ["rooted"], instruction: "COPY").items
        #expect(followed.map(\.hostPath) == [root + "/inside.txt"])
    }

    @Test func theContentHashIgnoresTimesButNotContentOrModes() throws {
        let root = try tree(["dir/a": "one", "dir/b": "two"])
        defer { try? FileSystem.removeTree(root) }
        let sources = try BuildSources(root: root, patterns: ["dir"], instruction: "COPY")
        let first = try sources.contentDigest()
        var times = [timespec(tv_sec: 1000, tv_nsec: 0), timespec(tv_sec: 1000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, root + "/dir/a", &times, 0) == 0)
        #expect(try sources.contentDigest() == first)
        #expect(chmod(root + "/dir/a", 0o600) == 0)
        let afterMode = try sources.contentDigest()
        #expect(afterMode != first)
        try FileSystem.writeAtomically(root + "/dir/b", bytes: Array("TWO".utf8), mode: 0o644, durable: false)
        #expect(try sources.contentDigest() != afterMode)
    }

    @Test func ignoreRulesKeepTheDockerfileAndTheirFileOutOfCopyOnly() throws {
        let root = try tree([
            "Dockerfile": "FROM scratch", ".dockerignore": "*.md\nDockerfile\n.dockerignore\n", "README.md": "r", "src/main.c": "m",
        ])
        defer { try? FileSystem.removeTree(root) }
        #expect(try BuildContext(directory: root).dockerfile(at: "Dockerfile") == "FROM scratch")
        try BuildContext(directory: root).applyIgnoreRules(dockerfile: "Dockerfile")
        #expect(!FileSystem.exists(root + "/Dockerfile"))
        #expect(!FileSystem.exists(root + "/.dockerignore"))
        // What else the rules exclude the client left out; the daemon does as dockerd does.
        #expect(FileSystem.exists(root + "/README.md"))
        #expect(FileSystem.exists(root + "/src/main.c"))
        #expect(throws: BuildError.noDockerfile("../etc/passwd")) { try BuildContext(directory: root).dockerfile(at: "../etc/passwd") }
    }

    @Test func anExcludedDockerfileBehindALinkIsRemovedInsideTheContextOnly() throws {
        let root = try tree([".dockerignore": "sub/Dockerfile\n"])
        defer { try? FileSystem.removeTree(root) }
        let outside = try tree(["Dockerfile": "host file"])
        defer { try? FileSystem.removeTree(outside) }
        #expect(symlink(outside, root + "/sub") == 0)
        try BuildContext(directory: root).applyIgnoreRules(dockerfile: "sub/Dockerfile")
        #expect(FileSystem.exists(outside + "/Dockerfile"))
    }

    @Test func exposeWordsAsDockerReadsThem() throws {
        #expect(try ConfigInstructions.exposedPorts("80") == ["80/tcp"])
        #expect(try ConfigInstructions.exposedPorts("53/UDP") == ["53/udp"])
        #expect(try ConfigInstructions.exposedPorts("8000-8002") == ["8000/tcp", "8001/tcp", "8002/tcp"])
        #expect(throws: BuildError.self) { try ConfigInstructions.exposedPorts("80/icmp") }
        #expect(throws: BuildError.self) { try ConfigInstructions.exposedPorts("90-80") }
    }
}
