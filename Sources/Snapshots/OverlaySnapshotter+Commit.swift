import BerthSystem
import CBerthSys
import ContentDigest
import Glibc
import OCI

extension OverlaySnapshotter {
    /// Makes a stopped container's upper directory the layer whose uncompressed content hashes
    /// to `diffID`, on top of the container's parent chain, instead of unpacking that layer's
    /// tar again: the upper is moved (one rename), so the container keeps no upper afterwards
    /// and must only be removed. Returns the new chain ID.
    ///
    /// The caller guarantees that `diffID` is the digest of the tar `DiffWriter.writeLayer`
    /// wrote from this very upper, that nothing has changed it since, and that it is not
    /// mounted. What that tar leaves out — sockets, overlayfs' own attributes on copied-up
    /// entries (`trusted.overlay.origin`, `impure`, …; only `opaque` is part of a layer) — is
    /// taken out of the tree first, so the layer is the same tree an unpack of the tar makes.
    /// Synced before it becomes visible, as an unpacked layer is. When the chain is already
    /// there (the same layer made twice), the existing one is kept and the upper stays.
    public func commit(container id: String, diffID: Digest) throws -> Digest {
        try validate(id)
        let directory = containerDirectory(id)
        let parentFile = "\(directory)/parent"
        guard let bytes = try? FileSystem.readFile(parentFile) else { throw SnapshotError.containerNotFound(id) }
        let parentText = String(decoding: bytes, as: UTF8.self)
        let parent: Digest?
        if parentText.isEmpty {
            parent = nil
        } else {
            guard let parsed = try? Digest(parsing: parentText) else { throw SnapshotError.corruptMetadata(path: parentFile) }
            parent = parsed
        }
        let chainID = chainIDs(of: [parent, diffID].compactMap { $0 }).last ?? diffID
        guard !hasLayer(chainID: chainID) else { return chainID }
        let upper = upperDirectory(container: id)
        try LayerTreeCleaner(root: upper).clean()
        try wrap("write", chainFile(chainID)) {
            try FileSystem.writeAtomically(chainFile(chainID), bytes: Array(parentText.utf8), mode: 0o600)
        }
        try wrap("sync", upper) { try FileSystem.syncFileSystem(containing: upper) }
        if rename(upper, layerDirectory(chainID)) != 0 {
            // Another build committed or unpacked the same chain first: theirs is as good.
            guard errno == EEXIST || errno == ENOTEMPTY else {
                throw SnapshotError.fileSystem(operation: "commit layer", path: layerDirectory(chainID), errno: errno)
            }
        }
        FileSystem.syncDirectory("\(root)/layers")
        return chainID
    }
}

/// Takes out of a stopped container's upper directory what a layer tar cannot carry: sockets,
/// and every `trusted.overlay.*` and `user.overlay.*` attribute except `trusted.overlay.opaque`
/// of value `y` (the one mark of an opaque directory that layers keep). Walks real directories
/// only (never through a link).
struct LayerTreeCleaner {
    let root: String

    func clean() throws {
        try cleanAttributes(root)
        try walk(root)
    }

    private func walk(_ directory: String) throws {
        for name in FileSystem.listDirectory(directory) {
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else {
                throw SnapshotError.fileSystem(operation: "stat", path: path, errno: errno)
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFSOCK {
                guard unlink(path) == 0 else { throw SnapshotError.fileSystem(operation: "remove socket", path: path, errno: errno) }
                continue
            }
            try cleanAttributes(path)
            if type == S_IFDIR { try walk(path) }
        }
    }

    private func cleanAttributes(_ path: String) throws {
        for name in try attributeNames(path) where name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.") {
            if name == "trusted.overlay.opaque", attributeValue(path, name) == [0x79] { continue }
            guard berth_lremovexattr(path, name) == 0 || errno == ENODATA else {
                throw SnapshotError.fileSystem(operation: "remove attribute \(name) of", path: path, errno: errno)
            }
        }
    }

    private func attributeNames(_ path: String) throws -> [String] {
        while true {
            let size = berth_llistxattr(path, nil, 0)
            if size < 0 {
                if errno == ENOTSUP { return [] }
                throw SnapshotError.fileSystem(operation: "list attributes of", path: path, errno: errno)
            }
            if size == 0 { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let read = berth_llistxattr(path, &buffer, size)
            if read < 0 && errno == ERANGE { continue }
            guard read >= 0 else { throw SnapshotError.fileSystem(operation: "list attributes of", path: path, errno: errno) }
            return buffer[..<read].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
    }

    private func attributeValue(_ path: String, _ name: String) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: 8)
        let size = berth_lgetxattr(path, name, &value, value.count)
        return size < 0 ? nil : Array(value[..<size])
    }
}
