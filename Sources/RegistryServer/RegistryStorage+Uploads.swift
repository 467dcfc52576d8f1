import BerthSystem
import ContentStore
import Glibc
import OCI

/// Upload sessions (distribution spec "Pushing blobs"): each has an id, belongs to one
/// repository, and keeps its bytes in the content store's ingest area under the ref
/// `upload <id>` until it is committed by a final `PUT` with the digest.
///
/// Guarantees: one request at a time writes to a session (a concurrent one is refused); a
/// session's data survives a server crash and is re-hashed when next used, so an upload can be
/// resumed from the offset `GET <location>` reports; sessions idle longer than `timeout` are
/// removed with their data by `sweep()`; nothing in a session is visible as a blob until it is
/// committed and verified.
actor UploadSessions {
    private let storage: RegistryStorage
    /// Idle time after which a session is removed.
    let timeout: Int
    private var writers: [String: IngestWriter] = [:]
    private var busy: Set<String> = []
    private var offsets: [String: Int64] = [:]

    init(storage: RegistryStorage, timeoutSeconds: Int) {
        self.storage = storage
        self.timeout = timeoutSeconds
    }

    private func metadataPath(_ id: String) -> String { storage.root + "/uploads/" + id }
    private static func ref(_ id: String) -> String { "upload " + id }

    /// Opens a new session for repository `name`; returns its id.
    func start(_ name: String) throws -> String {
        let id = (0..<2).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16) }.joined()
        try storage.writeLink(metadataPath(id), bytes: Array(name.utf8))
        offsets[id] = 0
        return id
    }

    private func checkOwner(_ id: String, _ name: String) throws {
        try RegistryNames.validateUploadID(id)
        guard let owner = try? FileSystem.readFile(metadataPath(id)), String(decoding: owner, as: UTF8.self) == name else {
            throw RegistryServerError.blobUploadUnknown(id: id)
        }
    }

    /// Takes the session's writer for one request; give it back with `release` or `finish`.
    func acquire(_ id: String, _ name: String) throws -> IngestWriter {
        try checkOwner(id, name)
        guard !busy.contains(id) else {
            throw RegistryServerError.blobUploadInvalid(reason: "another request is writing to upload \(id)", rangeNotSatisfiable: false)
        }
        let writer: IngestWriter
        if let open = writers[id] {
            writer = open
        } else {
            do {
                writer = try storage.content.ingest(ref: UploadSessions.ref(id))
            } catch {
                throw RegistryServerError.storage(reason: "\(error)")
            }
            writers[id] = writer
        }
        busy.insert(id)
        return writer
    }

    /// Gives back a writer after a request that did not finish the upload.
    func release(_ id: String, _ writer: IngestWriter) {
        busy.remove(id)
        offsets[id] = writer.offset
        // The metadata's modification time is the session's last activity, for `sweep`.
        utimes(metadataPath(id), nil)
    }

    /// Ends a session whose writer was committed or aborted.
    func finish(_ id: String) {
        busy.remove(id)
        writers[id] = nil
        offsets[id] = nil
        storage.content.removeIngest(ref: UploadSessions.ref(id))
        unlink(metadataPath(id))
    }

    /// Bytes received so far by session `id`.
    func offset(_ id: String, _ name: String) throws -> Int64 {
        try checkOwner(id, name)
        if let known = offsets[id] { return known }
        if let writer = writers[id] { return writer.offset }
        let writer = try acquire(id, name)
        release(id, writer)
        return writer.offset
    }

    /// Cancels session `id` and drops its data.
    func cancel(_ id: String, _ name: String) throws {
        try checkOwner(id, name)
        guard !busy.contains(id) else {
            throw RegistryServerError.blobUploadInvalid(reason: "upload \(id) is being written to", rangeNotSatisfiable: false)
        }
        finish(id)
    }

    /// Removes sessions idle for longer than `timeout`, and ingest data no session owns
    /// (left by a crash during a monolithic upload). Sessions in use are kept.
    func sweep() {
        let now = Int(time(nil))
        var owned: Set<String> = []
        for id in FileSystem.listDirectory(storage.root + "/uploads") {
            var st = stat()
            guard stat(metadataPath(id), &st) == 0 else { continue }
            if !busy.contains(id), now - Int(st.st_mtim.tv_sec) >= timeout {
                finish(id)
            } else {
                owned.insert(IngestWriter.directoryName(ref: UploadSessions.ref(id)))
            }
        }
        // Young ingests no session owns may be monolithic uploads being written right now.
        storage.content.removeStaleIngests(olderThan: timeout, keeping: owned)
    }
}
