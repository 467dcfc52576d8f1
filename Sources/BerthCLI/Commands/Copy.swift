import ArgumentParser
import BerthSystem
import FoundationEssentials
import Glibc
import LayerArchive

/// `berth cp`: copy files between a container and the local file system, as `docker cp` does
/// (a tar through `/containers/{id}/archive`, made and unpacked here with the layer code's
/// rules, so an archive from a container can write nothing outside the destination).
struct Cp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp", abstract: "Copy files/folders between a container and the local filesystem",
        discussion: "CONTAINER:SRC_PATH DEST_PATH|-  or  SRC_PATH|- CONTAINER:DEST_PATH")

    @Flag(name: [.customShort("a"), .long], help: "Archive mode (copy all uid/gid information)")
    var archive = false

    @Flag(name: .shortAndLong, help: "Suppress progress output during copy")
    var quiet = false

    @Argument(help: "Source") var source: String
    @Argument(help: "Destination") var destination: String

    /// `container:path`, or nil for a local path (one that starts with `/` or `.`, or has no `:`).
    static func containerPath(_ argument: String) -> (container: String, path: String)? {
        guard !argument.hasPrefix("/"), !argument.hasPrefix("."), let colon = argument.firstIndex(of: ":") else { return nil }
        let container = String(argument[..<colon])
        guard !container.isEmpty, !container.contains("/") else { return nil }
        return (container, String(argument[argument.index(after: colon)...]))
    }

    func run() throws {
        switch (Self.containerPath(source), Self.containerPath(destination)) {
        case (.some, .some): throw CLIError.failed("copying between containers is not supported")
        case (nil, nil): throw CLIError.failed("must specify at least one container source")
        case (.some(let from), nil): try copyOut(from)
        case (nil, .some(let to)): try copyIn(to)
        }
    }

    private func scratch() -> String {
        "/tmp/berth-cp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    }

    private func copyOut(_ from: (container: String, path: String)) throws {
        var query = Query()
        query.add("path", from.path.isEmpty ? "/" : from.path)
        let response = try Berth.client().send("GET", "/containers/\(Query.escapePath(from.container))/archive", query: query)
        if destination == "-" {
            while let piece = try response.body.next() { try FDIO.write(STDOUT_FILENO, piece) }
            return
        }
        let work = scratch()
        try FileSystem.makeDirectories(work + "/out", mode: 0o700)
        defer { try? FileSystem.removeTree(work) }
        let tar = open(work + "/archive.tar", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard tar >= 0 else { throw CLIError.failed("cannot write \(work)/archive.tar: \(String(cString: strerror(errno)))") }
        var size: Int64 = 0
        do {
            defer { close(tar) }
            while let piece = try response.body.next() {
                try FDIO.write(tar, piece)
                size += Int64(piece.count)
            }
        }
        // Owners are those of the copier (docker's CLI does not apply the archive's).
        let uid = getuid(), gid = getgid()
        let options = ExtractionOptions(owner: { _, _ in (uid, gid) })
        let top = Self.topName(from.path)
        if FileSystem.isDirectory(destination) && top != "." {
            try LayerApplier().extract(archiveAt: work + "/archive.tar", into: destination, options: options)
        } else {
            try LayerApplier().extract(archiveAt: work + "/archive.tar", into: work + "/out", options: options)
            let extracted = top == "." ? work + "/out" : work + "/out/" + top
            if top == ".", FileSystem.isDirectory(destination) {
                for name in FileSystem.listDirectory(extracted) {
                    try rename(extracted + "/" + name, destination + "/" + name)
                }
            } else {
                try rename(extracted, destination)
            }
        }
        if !quiet { Console.err("Successfully copied \(HumanSize.decimal(size)) to \(destination)\n") }
    }

    private func copyIn(_ to: (container: String, path: String)) throws {
        let client = try Berth.client()
        let target = to.path.isEmpty ? "/" : to.path
        var query = Query()
        query.add("copyUIDGID", flag: archive)
        query.add("noOverwriteDirNonDir", flag: true)
        let escaped = Query.escapePath(to.container)
        if source == "-" {
            query.add("path", target)
            try client.call("PUT", "/containers/\(escaped)/archive", query: query, body: .stream(fd: STDIN_FILENO, contentType: "application/x-tar"))
            return
        }
        // Into the directory when the destination is one; else as the destination's name in
        // its parent (a new name, or a file replaced).
        var stat = Query()
        stat.add("path", target)
        let isDirectory: Bool
        do {
            let head = try client.send("HEAD", "/containers/\(escaped)/archive", query: stat).head
            let encoded = head.header("X-Docker-Container-Path-Stat") ?? ""
            isDirectory = Self.statIsDirectory(encoded)
        } catch CLIError.daemon(let status, _) where status == 404 {
            isDirectory = false
        }
        var st = Glibc.stat()
        guard lstat(source, &st) == 0 else { throw CLIError.failed("could not find the file \(source) on the local host") }
        let trimmed = source.count > 1 && source.hasSuffix("/") ? String(source.dropLast()) : source
        let name = trimmed.split(separator: "/").last.map(String.init) ?? "."
        let archivedName = isDirectory ? name : (target.split(separator: "/").last.map(String.init) ?? name)
        query.add("path", isDirectory ? target : FileSystem.parent(of: target.hasPrefix("/") ? target : "/" + target))
        let parent = open(FileSystem.parent(of: trimmed.hasPrefix("/") ? trimmed : "./" + trimmed), O_PATH_FLAG | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw CLIError.failed("cannot open the directory of \(source): \(String(cString: strerror(errno)))") }
        defer { close(parent) }
        let work = scratch()
        try FileSystem.makeDirectories(work, mode: 0o700)
        defer { try? FileSystem.removeTree(work) }
        let written = try DiffWriter().writeArchive(ofEntry: name, in: parent, as: archivedName, to: work + "/archive.tar")
        let input = try InputFile(path: work + "/archive.tar")
        try client.call("PUT", "/containers/\(escaped)/archive", query: query, body: .stream(fd: input.fd, contentType: "application/x-tar"))
        if !quiet { Console.err("Successfully copied \(HumanSize.decimal(written.size)) to \(to.container):\(target)\n") }
    }

    /// Whether docker's base64 stat JSON says directory (Go's `ModeDir`, the top bit).
    static func statIsDirectory(_ encoded: String) -> Bool {
        guard let json = Data(base64Encoded: encoded) else { return false }
        let text = String(decoding: json, as: UTF8.self)
        guard let range = text.firstRange(of: "\"mode\":") else { return false }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return (UInt64(digits) ?? 0) & (1 << 31) != 0
    }

    /// The name of the archive's top entry for a container path (docker's `filepath.Base`,
    /// `.` for a path ending in `/.`).
    static func topName(_ path: String) -> String {
        if path.hasSuffix("/.") || path == "." { return "." }
        return path.split(separator: "/").last.map(String.init) ?? "/"
    }

    private func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 {
            throw CLIError.failed("cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }
}

/// `O_PATH`, which Swift's Glibc module does not expose.
private let O_PATH_FLAG: Int32 = 0o10000000
