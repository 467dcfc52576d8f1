import DockerConfig
import ArgumentParser
import FoundationEssentials
import Glibc
import OCI

/// `berth login`: checks credentials with the registry (through the daemon's `POST /auth`) and
/// stores them in docker's config file.
struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry")

    @Option(name: [.short, .long], help: "Username")
    var username: String?
    @Option(name: [.short, .long], help: "Password")
    var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Take the password from stdin")
    var passwordStdin = false
    @Argument(help: "SERVER (default: Docker Hub)")
    var server: String?

    func run() throws {
        if password != nil && passwordStdin {
            throw CLIError.usage(command: "login", message: "--password and --password-stdin are mutually exclusive")
        }
        if passwordStdin && username == nil {
            throw CLIError.usage(command: "login", message: "Must provide --username with --password-stdin")
        }
        if password != nil {
            Console.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
        }
        let domain = Login.domain(of: server ?? Reference.defaultDomain)
        let user = try username ?? Login.prompt("Username: ", echo: true)
        var secret = password ?? ""
        if passwordStdin {
            secret = String(decoding: try FDIO.read(STDIN_FILENO, max: 1 << 16), as: UTF8.self)
            while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
        } else if password == nil {
            secret = try Login.prompt("Password: ", echo: false)
        }
        guard !user.isEmpty else { throw CLIError.failed("Error: Cannot perform an interactive login from a non TTY device") }
        struct Body: Encodable { var username: String; var password: String; var serveraddress: String }
        let body = Body(username: user, password: secret, serveraddress: AuthConfigFile.key(forDomain: domain))
        // `/auth` takes docker's lowercase keys, not the API's PascalCase.
        let json = try JSONEncoder().encode(body)
        let response = try Berth.client().call("POST", "/auth", body: .bytes(Array(json), contentType: "application/json"))
        struct Answer: Decodable { var IdentityToken: String? }
        // With an identity token the password is not kept, as docker does.
        let identityToken = (try? JSONDecoder().decode(Answer.self, from: Data(response)))?.IdentityToken
        var file = AuthConfigFile.standard()
        try file.set(StoredLogin(username: user, password: secret, identityToken: identityToken.flatMap { $0.isEmpty ? nil : $0 }),
                     forDomain: domain)
        try Console.out("Login Succeeded\n")
    }

    /// The registry a server argument names: scheme and path dropped, Docker Hub's names folded.
    static func domain(of server: String) -> String {
        var text = Substring(server)
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
        let host = String(text.split(separator: "/", maxSplits: 1).first ?? "")
        return ["", "index.docker.io", "registry-1.docker.io", "docker.io"].contains(host) ? Reference.defaultDomain : host
    }

    /// Asks on the terminal; without echo for passwords. Fails when stdin is not a terminal.
    static func prompt(_ text: String, echo: Bool) throws -> String {
        guard Console.isTerminal(STDIN_FILENO) else {
            throw CLIError.failed("Error: Cannot perform an interactive login from a non TTY device")
        }
        Console.err(text)
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        if !echo {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if !echo {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                Console.err("\n")
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(STDIN_FILENO, &byte, 1) == 1, byte != 0x0a { line.append(byte) }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: ["\r"])
    }
}

/// `berth logout`: forgets the stored login for a registry.
struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry")

    @Argument(help: "SERVER (default: Docker Hub)")
    var server: String?

    func run() throws {
        let domain = Login.domain(of: server ?? Reference.defaultDomain)
        var file = AuthConfigFile.standard()
        let key = AuthConfigFile.key(forDomain: domain)
        if try file.set(nil, forDomain: domain) {
            try Console.out("Removing login credentials for \(key)\n")
        } else {
            try Console.out("Not logged in to \(key)\n")
        }
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let first = s.first, set.contains(first) { s = s.dropFirst() }
        while let last = s.last, set.contains(last) { s = s.dropLast() }
        return String(s)
    }
}
