#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentDigest
import ContentStore
import Glibc
import Testing
import OCI
@testable import Registry
@testable import RegistryServer

/// A fresh registry root under /tmp, removed when the test ends.
final class TemporaryRoot {
    let path: String

    init() {
        var template = Array("/tmp/registry-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit { try? FileSystem.removeTree(path) }
}

/// Pushes blobs and manifests straight into a storage, for the tests.
struct Fixture {
    let root = TemporaryRoot()
    let storage: RegistryStorage

    init() throws { storage = try RegistryStorage(root: root.path) }

    @discardableResult
    func blob(_ text: String, in name: String) throws -> Descriptor {
        let (digest, size) = try storage.content.write(Data(text.utf8))
        try storage.linkBlob(name, digest)
        return Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: size)
    }

    func manifestBytes(config: Descriptor, layers: [Descriptor], mediaType: String? = MediaType.ociManifest, extra: String = "") -> [UInt8] {
        func json(_ d: Descriptor) -> String { #"{"mediaType":"\#(d.mediaType)","digest":"\#(d.digest)","size":\#(d.size)}"# }
        let type = mediaType.map { #""mediaType":"\#($0)","# } ?? ""
        return Array(#"{"schemaVersion":2,\#(type)"config":\#(json(config)),"layers":[\#(layers.map(json).joined(separator: ","))]\#(extra)}"#.utf8)
    }
}

@Suite struct RegistryStorageTests {
    @Test func blobsAreStoredOnceAndVisibleOnlyThroughLinks() throws {
        let f = try Fixture()
        let d = try f.blob("layer", in: "a/one")
        #expect(f.storage.blobSize("a/one", d.digest) == 5)
        #expect(f.storage.blobSize("b", d.digest) == nil)
        #expect(try f.storage.mountBlob("b", d.digest, from: "a/one") == 5)
        #expect(try f.storage.mountBlob("c", d.digest, from: "nowhere") == nil)
        try f.blob("layer", in: "d")
        #expect(f.storage.content.list() == [d.digest])
        #expect(f.storage.repositories().sorted() == ["a/one", "b", "d"])
        #expect(try f.storage.unlinkBlob("b", d.digest))
        #expect(f.storage.blobSize("b", d.digest) == nil)
        #expect(f.storage.blobSize("a/one", d.digest) == 5)
    }

    @Test func manifestsAreCheckedBeforeTheyAreStored() throws {
        let f = try Fixture()
        let config = try f.blob("{}", in: "app")
        let layer = try f.blob("layer", in: "app")
        let missing = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest.sha256(of: Array("absent".utf8)), size: 6)
        #expect(throws: RegistryServerError.manifestBlobUnknown(digest: missing.digest.description)) {
            try f.storage.putManifest("app", .tag("v1"), contentType: MediaType.ociManifest, bytes: f.manifestBytes(config: config, layers: [missing]))
        }
        // The layer exists, but not in this repository.
        #expect(throws: RegistryServerError.self) {
            try f.storage.putManifest("other", .tag("v1"), contentType: MediaType.ociManifest, bytes: f.manifestBytes(config: config, layers: [layer]))
        }
        #expect(throws: RegistryServerError.self) {
            try f.storage.putManifest("app", .tag("v1"), contentType: MediaType.dockerManifest, bytes: f.manifestBytes(config: config, layers: [layer]))
        }
        #expect(throws: RegistryServerError.self) {
            try f.storage.putManifest("app", .tag("v1"), contentType: MediaType.ociManifest, bytes: f.manifestBytes(config: config, layers: [layer], extra: #","manifests":[]"#))
        }
        #expect(throws: RegistryServerError.manifestTooLarge(limit: RegistryStorage.manifestLimit)) {
            try f.storage.putManifest("app", .tag("v1"), contentType: MediaType.ociManifest, bytes: [UInt8](repeating: 0x20, count: RegistryStorage.manifestLimit + 1))
        }
        let good = f.manifestBytes(config: config, layers: [layer])
        let wrong = Digest.sha256(of: Array("other".utf8))
        #expect(throws: RegistryServerError.self) { try f.storage.putManifest("app", .digest(wrong), contentType: MediaType.ociManifest, bytes: good) }
        #expect(f.storage.content.list().count == 2)
        #expect(try f.storage.tags("app") == [])

        let (stored, _) = try f.storage.putManifest("app", .tag("v1"), contentType: MediaType.ociManifest, bytes: good)
        #expect(stored.digest == Digest.sha256(of: good))
        #expect(try f.storage.manifest("app", .tag("v1")).bytes == good)
        #expect(try f.storage.manifest("app", .digest(stored.digest)).mediaType == MediaType.ociManifest)
        try f.storage.deleteManifest("app", .digest(stored.digest))
        #expect(try f.storage.tags("app") == [])
        #expect(throws: RegistryServerError.self) { try f.storage.manifest("app", .digest(stored.digest)) }
    }

    @Test func indexesNeedTheirManifestsAndReferrersAreListed() throws {
        let f = try Fixture()
        let config = try f.blob("{}", in: "app")
        let image = f.manifestBytes(config: config, layers: [])
        let (stored, _) = try f.storage.putManifest("app", .digest(Digest.sha256(of: image)), contentType: MediaType.ociManifest, bytes: image)
        let child = #"{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(stored.digest)","size":\#(image.count)}"#
        let index = Array(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociIndex)","manifests":[\#(child)]}"#.utf8)
        #expect(throws: RegistryServerError.self) { try f.storage.putManifest("elsewhere", .tag("i"), contentType: MediaType.ociIndex, bytes: index) }
        _ = try f.storage.putManifest("app", .tag("i"), contentType: MediaType.ociIndex, bytes: index)

        let signature = f.manifestBytes(config: config, layers: [], extra: #","artifactType":"application/x.sig","subject":\#(child)"#)
        let (referrer, subject) = try f.storage.putManifest("app", .digest(Digest.sha256(of: signature)), contentType: MediaType.ociManifest, bytes: signature)
        #expect(subject == stored.digest)
        #expect(f.storage.referrers("app", subject: stored.digest, artifactType: nil).map(\.digest) == [referrer.digest])
        #expect(f.storage.referrers("app", subject: stored.digest, artifactType: "other").isEmpty)
        #expect(f.storage.referrers("app", subject: stored.digest, artifactType: "application/x.sig").first?.artifactType == "application/x.sig")
    }

    @Test func uploadsResumeAfterARestartAndCommitOnlyVerifiedBytes() async throws {
        let f = try Fixture()
        let sessions = UploadSessions(storage: f.storage, timeoutSeconds: 3600)
        let id = try await sessions.start("app")
        let writer = try await sessions.acquire(id, "app")
        try Array("hello ".utf8).withUnsafeBytes { try writer.write($0) }
        // A second writer for a busy session is refused.
        await #expect(throws: RegistryServerError.self) { try await sessions.acquire(id, "app") }
        await sessions.release(id, writer)
        await #expect(throws: RegistryServerError.blobUploadUnknown(id: id)) { try await sessions.acquire(id, "other") }

        // A new server process (new sessions) finds the partial data and re-hashes it.
        let restarted = UploadSessions(storage: f.storage, timeoutSeconds: 3600)
        #expect(try await restarted.offset(id, "app") == 6)
        let resumed = try await restarted.acquire(id, "app")
        try Array("world".utf8).withUnsafeBytes { try resumed.write($0) }
        #expect(throws: ContentError.self) { try resumed.commit(expectedDigest: Digest.sha256(of: Array("wrong".utf8)), expectedSize: nil) }
        #expect(f.storage.content.list().isEmpty)
        await restarted.finish(id)
        await #expect(throws: RegistryServerError.self) { try await restarted.offset(id, "app") }
        #expect(FileSystem.listDirectory(f.storage.content.root + "/ingest").isEmpty)
    }

    @Test func sweepRemovesIdleSessionsAndOrphanedIngests() async throws {
        let f = try Fixture()
        let sessions = UploadSessions(storage: f.storage, timeoutSeconds: 0)
        let id = try await sessions.start("app")
        let writer = try await sessions.acquire(id, "app")
        try Array("partial".utf8).withUnsafeBytes { try writer.write($0) }
        await sessions.release(id, writer)
        let orphan = try f.storage.content.ingest()
        try Array("left by a crash".utf8).withUnsafeBytes { try orphan.write($0) }
        await sessions.sweep()
        #expect(FileSystem.listDirectory(f.storage.content.root + "/ingest").isEmpty)
        await #expect(throws: RegistryServerError.self) { try await sessions.offset(id, "app") }
        #expect(f.storage.content.list().isEmpty)
    }

    @Test func garbageCollectionKeepsWhatManifestsReference() throws {
        let f = try Fixture()
        let config = try f.blob("{}", in: "app")
        let shared = try f.blob("shared", in: "app")
        let only = try f.blob("only-old", in: "app")
        let stray = try f.blob("never referenced", in: "app")
        _ = try f.storage.putManifest("app", .tag("new"), contentType: MediaType.ociManifest, bytes: f.manifestBytes(config: config, layers: [shared]))
        let (old, _) = try f.storage.putManifest("app", .tag("old"), contentType: MediaType.ociManifest, bytes: f.manifestBytes(config: config, layers: [shared, only]))
        try f.storage.deleteManifest("app", .tag("old"))

        let dry = RegistryGarbageCollector(storage: f.storage).collect(deleteUntagged: false, dryRun: true)
        #expect(dry.removedBlobs == [stray.digest])
        #expect(f.storage.content.contains(stray.digest))

        let report = RegistryGarbageCollector(storage: f.storage).collect(deleteUntagged: true, dryRun: false)
        #expect(report.removedManifests == ["app@\(old.digest)"])
        #expect(Set(report.removedBlobs) == [stray.digest, only.digest, old.digest])
        #expect(f.storage.blobSize("app", shared.digest) != nil)
        #expect(f.storage.blobSize("app", only.digest) == nil)
        #expect(try f.storage.manifest("app", .tag("new")).bytes.count > 0)
    }

    @Test func theRootLockIsExclusive() throws {
        let root = TemporaryRoot()
        let lock = try RootLock(root: root.path)
        #expect(throws: RegistryServerError.self) { try RootLock(root: root.path) }
        #expect(throws: RegistryServerError.self) { try RegistryGarbageCollector.collect(root: root.path, deleteUntagged: false, dryRun: true) }
        lock.release()
        _ = try RegistryGarbageCollector.collect(root: root.path, deleteUntagged: false, dryRun: true)
    }
}

@Suite struct HTPasswdTests {
    // Made with crypt(3): perl -e 'print crypt("s3cret", q($2y$05$abcdefghijklmnopqrstuu))'.
    static let file = """
    # users
    alice:$2y$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK
    bob:$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a

    """

    @Test func verifiesBcryptEntries() throws {
        let htpasswd = try HTPasswd(text: HTPasswdTests.file)
        #expect(htpasswd.verify(user: "alice", password: "s3cret"))
        #expect(htpasswd.verify(user: "bob", password: "secret"))
        #expect(!htpasswd.verify(user: "alice", password: "secret"))
        #expect(!htpasswd.verify(user: "alice", password: ""))
        #expect(!htpasswd.verify(user: "carol", password: "s3cret"))
    }

    @Test func refusesMalformedFiles() {
        #expect(throws: RegistryServerError.self) { try HTPasswd(text: "no-colon-here\n") }
        #expect(throws: RegistryServerError.self) { try HTPasswd(text: "user:\n") }
    }
}
