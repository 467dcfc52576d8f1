import Glibc
import NIOCore
import Testing
@testable import Registry
@testable import RegistryServer

/// The registry client over HTTPS against Berth's own server with a self-signed certificate:
/// trusted through an extra CA file, refused without it, accepted unchecked for an insecure
/// registry.
@Suite struct TLSClientTests {
    final class Port: @unchecked Sendable { var value = 0 }

    @Test func verifiesAgainstExtraRootsAndRefusesUnknownCertificates() async throws {
        let directory = "/tmp/berth-tls-test-\(UInt64.random(in: 0...UInt64.max))"
        #expect(mkdir(directory, 0o700) == 0)
        defer { run("rm -rf \(directory)") }
        let made = run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                       + "-keyout \(directory)/key.pem -out \(directory)/cert.pem 2>/dev/null")
        try #require(made == 0, "openssl is needed (scripts/install-deps.sh)")
        let server = RegistryServer(configuration: .init(
            host: "127.0.0.1", port: 0, root: directory + "/root",
            secureConnection: try ServerTLS.handler(certificate: directory + "/cert.pem", key: directory + "/key.pem")))
        let port = Port()
        let serving = Task { try await server.run { bound in port.value = bound } }
        defer { serving.cancel() }
        for _ in 0..<200 where port.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try #require(port.value > 0)
        let url = HTTPURL(secure: true, host: "127.0.0.1", port: port.value, target: "/v2/")

        let trusted = HTTPClient(tls: TLSPolicy(verify: true, extraRoots: [directory + "/cert.pem"]))
        #expect(try await trusted.execute(HTTPRequest(.GET, url)) { response, _ in response.status } == 200)

        let unchecked = HTTPClient(tls: TLSPolicy(verify: false))
        #expect(try await unchecked.execute(HTTPRequest(.GET, url)) { response, _ in response.status } == 200)

        let strict = HTTPClient(tls: TLSPolicy(verify: true))
        await #expect(throws: RegistryError.self) {
            _ = try await strict.execute(HTTPRequest(.GET, url)) { response, _ in response.status }
        }
        serving.cancel()
        await server.shutdown()
    }

    @Test func certificatesDirectoryFollowsDockersLayout() throws {
        let directory = "/tmp/berth-certs-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { run("rm -rf \(directory)") }
        #expect(run("mkdir -p '\(directory)/reg.example:5000' && touch '\(directory)/reg.example:5000/ca.crt' '\(directory)/reg.example:5000/client.key'") == 0)
        let policy = TLSPolicy.forRegistry("reg.example:5000", secure: true, certificatesDirectory: directory)
        #expect(policy.verify && policy.extraRoots == ["\(directory)/reg.example:5000/ca.crt"])
        #expect(TLSPolicy.forRegistry("other:1", secure: false, certificatesDirectory: directory) == TLSPolicy(verify: false))
        #expect(TLSPolicy.forRegistry("..", secure: true, certificatesDirectory: directory).extraRoots.isEmpty)
    }

    @discardableResult
    private func run(_ command: String) -> Int32 {
        var pid: pid_t = 0
        let args = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status >> 8) & 0xff
    }
}
