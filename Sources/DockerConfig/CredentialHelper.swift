#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import CBerthSys
import Glibc

/// A credential store that failed, with docker's wording of the failure.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sentence docker prints for the same failure.
    public var message: String
    public var description: String { message }
}

/// A docker credential helper (`docker-credential-<name>` on `PATH`), spoken to as docker does:
/// `get` and `erase` read the server address on stdin, `store` reads
/// `{"ServerURL","Username","Secret"}`; `get` answers with the same JSON. A user name of
/// `<token>` means the secret is an identity token.
public struct CredentialHelper: Sendable {
    /// The helper's name (`pass` for `docker-credential-pass`).
    public let name: String

    /// The user name helpers store for an identity token.
    static let identityTokenUser = "<token>"

    private struct Entry: Codable {
        var ServerURL: String
        var Username: String
        var Secret: String
    }

    /// The login stored for `server`, or nil when the helper has none.
    public func get(server: String) throws -> StoredLogin? {
        let (status, output) = try run("get", input: Array(server.utf8))
        guard status == 0 else {
            if output.contains("credentials not found") { return nil }
            throw failure("get", output)
        }
        guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(output.utf8)) else {
            throw CredentialError(message: "error getting credentials - docker-credential-\(name) answered something that is not its JSON: \(output)")
        }
        if entry.Username == CredentialHelper.identityTokenUser {
            return StoredLogin(username: "", password: "", identityToken: entry.Secret)
        }
        return StoredLogin(username: entry.Username, password: entry.Secret, identityToken: nil)
    }

    /// Stores `login` for `server`.
    public func store(_ login: StoredLogin, server: String) throws {
        let entry = login.identityToken.map { Entry(ServerURL: server, Username: CredentialHelper.identityTokenUser, Secret: $0) }
            ?? Entry(ServerURL: server, Username: login.username, Secret: login.password)
        let (status, output) = try run("store", input: Array(try JSONEncoder().encode(entry)))
        guard status == 0 else { throw failure("store", output) }
    }

    /// Removes the login for `server`; false when the helper had none.
    @discardableResult
    public func erase(server: String) throws -> Bool {
        let (status, output) = try run("erase", input: Array(server.utf8))
        guard status == 0 else {
            if output.contains("credentials not found") { return false }
            throw failure("erase", output)
        }
        return true
    }

    private func failure(_ action: String, _ output: String) -> CredentialError {
        let verb = action == "get" ? "getting" : action == "store" ? "storing" : "erasing"
        return CredentialError(message: "error \(verb) credentials - err: docker-credential-\(name) \(action) failed, out: `\(output)`")
    }

    /// Runs the helper with `action`, `input` on its stdin; its exit status and stdout (trimmed).
    private func run(_ action: String, input: [UInt8]) throws -> (Int32, String) {
        let program = "docker-credential-" + name
        guard let path = CredentialHelper.find(program) else {
            throw CredentialError(message: "error getting credentials - err: exec: \"\(program)\": executable file not found in $PATH")
        }
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1]
        guard berth_pipe2(&stdinPipe, O_CLOEXEC) == 0 else { throw CredentialError(message: "pipe: \(String(cString: strerror(errno)))") }
        defer { close(stdinPipe[0]); if stdinPipe[1] >= 0 { close(stdinPipe[1]) } }
        guard berth_pipe2(&stdoutPipe, O_CLOEXEC) == 0 else { throw CredentialError(message: "pipe: \(String(cString: strerror(errno)))") }
        defer { close(stdoutPipe[0]) }
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), strdup(action), nil]
        defer { argv.forEach { free($0) } }
        let pid = berth_spawn(path, &argv, environ, stdinPipe[0], stdoutPipe[1], STDERR_FILENO)
        close(stdoutPipe[1])
        guard pid > 0 else { throw CredentialError(message: "cannot run \(path): \(String(cString: strerror(errno)))") }
        // Helper inputs are a few hundred bytes: far below a pipe's capacity, so this cannot block.
        _ = input.withUnsafeBytes { write(stdinPipe[1], $0.baseAddress, $0.count) }
        close(stdinPipe[1])
        stdinPipe[1] = -1
        let output = (try? FileSystem.readAll(stdoutPipe[0])) ?? []
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (WaitStatus.exitCode(status), String(decoding: output, as: UTF8.self).trimmed)
    }

    /// `program` in a directory of `PATH`, if it is there and executable.
    public static func find(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
