import ContentDigest
import Foundation
import Testing
@testable import OCI

@Suite struct ReferenceTests {
    @Test func shortNameNormalizesToDockerHubLibrary() throws {
        let r = try Reference(parsing: "busybox")
        #expect(r.domain == "docker.io")
        #expect(r.path == "library/busybox")
        #expect(r.tag == "latest")
        #expect(r.familiar == "busybox:latest")
    }

    @Test func registryWithPortIsTheDomain() throws {
        let r = try Reference(parsing: "127.0.0.1:5000/example/bb:1")
        #expect(r.domain == "127.0.0.1:5000")
        #expect(r.path == "example/bb")
        #expect(r.tag == "1")
        #expect(r.familiar == "127.0.0.1:5000/example/bb:1")
    }

    @Test func dockerIOPrefixIsStrippedInFamiliarForm() throws {
        let r = try Reference(parsing: "docker.io/example/committed:1")
        #expect(r.familiar == "example/committed:1")
        #expect(try Reference(parsing: "docker.io/library/busybox").familiar == "busybox:latest")
    }

    @Test func digestReferenceHasNoDefaultTag() throws {
        let hex = String(repeating: "a", count: 64)
        let r = try Reference(parsing: "busybox@sha256:\(hex)")
        #expect(r.tag == nil)
        #expect(r.digest?.encoded == hex)
    }

    @Test(arguments: ["", "UPPER", "a//b", "-x", "x:bad tag", "x@sha256:123", "a/..b"])
    func invalidReferencesAreRefused(_ s: String) {
        #expect(throws: OCIError.self) { try Reference(parsing: s) }
    }
}

@Suite struct DigestTests {
    @Test func sha256OfKnownInput() {
        #expect(Digest.sha256(of: Array("".utf8)).encoded == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(of: Array("abc".utf8)).encoded == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hasherFedInPiecesMatchesOneShotAndKeepsGoingAfterFinalize() {
        // FIPS 180-2's two-block message, fed 1 byte, then 7, then the rest.
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let hasher = DigestHasher()
        message[0..<1].withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == Digest.sha256(of: Array("a".utf8)))
        message[1..<8].withUnsafeBytes { hasher.update($0) }
        message[8...].withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize().encoded == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hasher.count == Int64(message.count))
    }

    @Test(arguments: ["sha256:abc", "sha256:" + String(repeating: "A", count: 64), "nocolon", "sha256:../../etc/passwd", ":x"])
    func malformedDigestsAreRefused(_ s: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: s) }
    }

    @Test func chainIDsFollowTheSpec() throws {
        let a = Digest.sha256(of: [1]), b = Digest.sha256(of: [2])
        let ids = chainIDs(of: [a, b])
        #expect(ids[0] == a)
        #expect(ids[1] == Digest.sha256(of: Array("\(a) \(b)".utf8)))
    }
}

@Suite struct ManifestTests {
    @Test func ambiguousDocumentIsRefused() {
        let json = #"{"schemaVersion":2,"manifests":[],"layers":[],"config":{"mediaType":"x","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0}}"#
        #expect(throws: OCIError.self) { try Manifest.decode(Array(json.utf8).withUnsafeBytes { Data($0) }) }
    }

    @Test func missingConfigIsNamed() {
        let json = #"{"schemaVersion":2,"layers":[]}"#
        #expect(throws: OCIError.malformedDocument(kind: "manifest", reason: "missing required field \"config\"")) {
            try Manifest.decode(Data(json.utf8))
        }
    }
}
