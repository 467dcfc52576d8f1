#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import ContentStore
import Glibc
import OCI
import Replication

/// The registry's files under its root:
///
/// ```
/// content/blobs/sha256/<hex>                          every blob and manifest once (ContentStore)
/// content/ingest/…                                    uploads in progress
/// uploads/<id>                                        an upload session: its repository's name
/// repositories/<name>/_layers/sha256/<hex>            the repository may serve this blob
/// repositories/<name>/_manifests/revisions/sha256/<hex>   a manifest of the repository; holds its media type
/// repositories/<name>/_manifests/tags/<tag>           the digest the tag points to
/// repositories/<name>/_referrers/<subject hex>/<hex>  a manifest whose subject is that digest (its descriptor)
/// registry.lock                                       held by the running server (and by gc)
/// ```
///
/// Guarantees: content is stored once whatever the number of repositories, and becomes visible
/// in a repository only through a link written after the content was verified and committed;
/// every link and tag is replaced atomically, so a crash at any instant leaves each name either
/// absent or pointing at complete, verified content. Names and digests given to it must have
/// passed `RegistryNames` validation, which makes them safe path components.
struct RegistryStorage: Sendable {
    /// The registry's root directory.
    let root: String
    /// Blobs and manifests by digest.
    let content: ContentStore
    /// Where writes are recorded for replication; nil when the registry replicates nowhere.
    var journal: ReplicationJournal?

    /// Opens (creating if needed) the storage under `root`.
    init(root: String) throws {
        self.root = root
        do {
            try FileSystem.makeDirectories(root + "/repositories", mode: 0o755)
            try FileSystem.makeDirectories(root + "/uploads", mode: 0o700)
        } catch {
            throw RegistryServerError.storage(reason: "\(error)")
        }
        content = try ContentStore(root: root + "/content")
    }

    func repositoryPath(_ name: String) -> String { root + "/repositories/" + name }
    func blobLinkPath(_ name: String, _ digest: Digest) -> String { repositoryPath(name) + "/_layers/\(digest.algorithm)/\(digest.encoded)" }
    func revisionPath(_ name: String, _ digest: Digest) -> String { repositoryPath(name) + "/_manifests/revisions/\(digest.algorithm)/\(digest.encoded)" }
    func tagPath(_ name: String, _ tag: String) -> String { repositoryPath(name) + "/_manifests/tags/" + tag }
    func referrersPath(_ name: String, _ subject: Digest) -> String { repositoryPath(name) + "/_referrers/\(subject.encoded)" }

    /// Whether the repository exists (has held a blob or manifest).
    func repositoryExists(_ name: String) -> Bool { FileSystem.isDirectory(repositoryPath(name)) }

    // MARK: Blobs

    /// The size of blob `digest` when repository `name` may serve it and the store holds it.
    func blobSize(_ name: String, _ digest: Digest) -> Int64? {
        guard FileSystem.exists(blobLinkPath(name, digest)) else { return nil }
        return content.size(of: digest)
    }

    /// The file holding blob `digest` (valid while the blob exists).
    func blobFile(_ digest: Digest) -> String { content.path(of: digest) }

    /// Lets repository `name` serve blob `digest`, which must already be committed to `content`.
    func linkBlob(_ name: String, _ digest: Digest) throws {
        try journal?.record(name, [.blob(digest)])
        try writeLink(blobLinkPath(name, digest), bytes: [])
        journal?.published()
    }

    /// Removes repository `name`'s link to blob `digest`; the content stays until `gc`.
    /// Returns false when there was no link.
    @discardableResult
    func unlinkBlob(_ name: String, _ digest: Digest) throws -> Bool {
        guard FileSystem.exists(blobLinkPath(name, digest)) else { return false }
        try journal?.record(name, [.deleteBlob(digest)])
        defer { journal?.published() }
        return unlink(blobLinkPath(name, digest)) == 0
    }

    /// Repository `name` may serve `digest` if repository `from` may: links it (a cross-repository
    /// mount). Returns the blob's size, or nil when `from` cannot serve it.
    func mountBlob(_ name: String, _ digest: Digest, from: String) throws -> Int64? {
        guard let size = blobSize(from, digest) else { return nil }
        try linkBlob(name, digest)
        return size
    }

    // MARK: Tags and repositories

    /// The tags of repository `name`; throws `nameUnknown` when it does not exist.
    func tags(_ name: String) throws -> [String] {
        guard repositoryExists(name) else { throw RegistryServerError.nameUnknown(name: name) }
        return FileSystem.listDirectory(repositoryPath(name) + "/_manifests/tags").filter { Reference.isValidTag($0) && !RegistryStorage.isTemporary($0) }
    }

    /// Whether `name` is a temporary file `FileSystem.writeAtomically` left behind when the
    /// process died before its rename (`<name>.tmp-<pid>-<random>`), not a tag.
    static func isTemporary(_ name: String) -> Bool {
        guard let last = name.split(separator: ".", omittingEmptySubsequences: false).last, last.hasPrefix("tmp-") else { return false }
        let parts = last.dropFirst(4).split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { part in !part.isEmpty && part.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    }

    /// The digest tag `tag` of `name` points to, or nil.
    func resolve(_ name: String, tag: String) -> Digest? {
        guard let bytes = try? FileSystem.readFile(tagPath(name, tag)) else { return nil }
        return try? Digest(parsing: String(decoding: bytes, as: UTF8.self))
    }

    /// Every repository holding at least one blob or manifest link, by name.
    func repositories() -> [String] {
        var found: [String] = []
        func walk(_ relative: String) {
            let path = relative.isEmpty ? root + "/repositories" : repositoryPath(relative)
            let entries = FileSystem.listDirectory(path)
            if !relative.isEmpty, entries.contains("_manifests") || entries.contains("_layers") { found.append(relative) }
            for entry in entries where !entry.hasPrefix("_") && FileSystem.isDirectory(path + "/" + entry) {
                walk(relative.isEmpty ? entry : relative + "/" + entry)
            }
        }
        walk("")
        return found
    }

    // MARK: Files

    /// Writes a link or tag file atomically and durably, creating its directory.
    func writeLink(_ path: String, bytes: [UInt8]) throws {
        do {
            try FileSystem.makeDirectories(FileSystem.parent(of: path), mode: 0o755)
            try FileSystem.writeAtomically(path, bytes: bytes, mode: 0o644)
        } catch {
            throw RegistryServerError.storage(reason: "\(error)")
        }
    }
}
