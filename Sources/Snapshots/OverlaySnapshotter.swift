import BerthSystem
import Glibc
import LayerArchive
import ContentDigest
import OCI

/// The overlayfs snapshotter: every layer chain unpacked once, read-only, under its chain ID;
/// one writable upper directory per container on top.
///
/// Layout under `root` (all directories 0700, so host users cannot reach setuid files or
/// devices inside layers; CVE-2021-41091):
/// - `layers/<chain-id-hex>/`: the unpacked layer, used directly as an overlay lower directory;
///   `layers/tmp-<random>/` while unpacking.
/// - `chains/<chain-id-hex>`: the parent chain ID (empty for a base layer).
/// - `sizes/<chain-id-hex>`: the layer's content size in decimal (docker's layer size),
///   written at unpack; measured and written on first use for layers unpacked without it.
/// - `containers/<id>/{upper,work,parent}`: a container's writable layer, overlay work
///   directory and the chain ID it sits on.
/// - `empty/`: the lower directory of containers without image layers.
///
/// Guarantees: a layer is visible under its chain ID only once fully unpacked with the
/// expected diff ID (the rename is the commit point), so concurrent unpacks of one chain
/// are safe and a failure or crash leaves at most `tmp-` directories; IDs used as path
/// components are validated first.
public struct OverlaySnapshotter: Sendable {
    /// The snapshotter's root, usually `<berth root>/snapshots`.
    public let root: String
    private let applier: LayerApplier

    /// Opens (creating if needed) a snapshotter at `root`; `limits` bound every layer unpacked.
    public init(root: String, limits: LayerLimits = .default) throws {
        // The root becomes part of overlay mount options, where these characters separate values.
        guard root.hasPrefix("/"), !root.contains(where: { $0 == "," || $0 == ":" || $0 == "\\" }) else {
            throw SnapshotError.unsupportedRoot(root)
        }
        self.root = root
        self.applier = LayerApplier(limits: limits)
        for sub in ["", "/layers", "/chains", "/sizes", "/containers", "/empty"] {
            try wrap("create", root + sub) { try FileSystem.makeDirectories(root + sub, mode: 0o700) }
        }
    }

    /// Ensures every prefix of the chain is unpacked once under its chain ID. `layers` are
    /// base first; each is (diffID expected, path of the blob). Verifies diff IDs: a layer
    /// whose content does not match throws `SnapshotError.diffIDMismatch`, a hostile or damaged
    /// one the `LayerError` saying why, and either leaves nothing of that layer behind.
    /// Layers already unpacked are not read again. Returns the chain ID of each prefix, base
    /// first. Safe to call concurrently, from threads or processes, for the same chain.
    public func unpack(_ layers: [LayerSource]) throws -> [Digest] {
        let ids = chainIDs(of: layers.map(\.diffID))
        for (index, layer) in layers.enumerated() where !hasLayer(chainID: ids[index]) {
            try unpackLayer(.file(layer.path), diffID: layer.diffID, chainID: ids[index], parent: index > 0 ? ids[index - 1] : nil)
        }
        return ids
    }

    /// Unpacks one layer under `chainID` (whose parent chain is `parent`) unless it is there;
    /// the parent need not be unpacked yet, so the layers of an image can be unpacked in any
    /// order and at the same time. Verifies the diff ID as `unpack(_:)` does.
    public func unpack(_ layer: LayerSource, chainID: Digest, parent: Digest?) throws {
        guard !hasLayer(chainID: chainID) else { return }
        try unpackLayer(.file(layer.path), diffID: layer.diffID, chainID: chainID, parent: parent)
    }

    /// `unpack(_:chainID:parent:)` for a layer read from `input` as it arrives (a pipe fed by
    /// its download). The layer is committed only if the whole stream matches `diffID`.
    public func unpack(_ input: LayerInput, diffID: Digest, chainID: Digest, parent: Digest?) throws {
        guard !hasLayer(chainID: chainID) else { return }
        try unpackLayer(input, diffID: diffID, chainID: chainID, parent: parent)
    }

    /// Whether the layer chain `chainID` is unpacked.
    public func hasLayer(chainID: Digest) -> Bool {
        FileSystem.isDirectory(layerDirectory(chainID)) && FileSystem.exists(chainFile(chainID))
    }

    /// Chain IDs of every unpacked layer (for garbage collection).
    public func layerChainIDs() -> [Digest] {
        FileSystem.listDirectory("\(root)/chains").compactMap { try? Digest(sha256Hex: $0) }
    }

    /// Removes an unpacked layer. Containers and child chains on top of it must be removed
    /// first; a missing layer is not an error.
    public func removeLayer(chainID: Digest) throws {
        let doomed = "\(root)/layers/tmp-remove-\(randomSuffix())"
        // Renamed away first so the chain ID stops naming a half-removed tree at once.
        if rename(layerDirectory(chainID), doomed) != 0 && errno != ENOENT {
            throw SnapshotError.fileSystem(operation: "remove layer", path: layerDirectory(chainID), errno: errno)
        }
        try wrap("remove layer", doomed) { try FileSystem.removeTree(doomed) }
        if unlink(chainFile(chainID)) != 0 && errno != ENOENT {
            throw SnapshotError.fileSystem(operation: "remove", path: chainFile(chainID), errno: errno)
        }
        unlink(sizeFile(chainID))
    }

    /// Bytes of file content in the layer `chainID` alone (not its parents): docker's layer
    /// size, the figure `docker images` and `history` add up. Nil when the layer is not unpacked.
    public func contentSize(chainID: Digest) -> Int64? {
        if let text = try? FileSystem.readFile(sizeFile(chainID)), let size = Int64(String(decoding: text, as: UTF8.self)) {
            return size
        }
        guard hasLayer(chainID: chainID), let size = try? DiskUsage.contentBytes(under: layerDirectory(chainID)) else { return nil }
        recordContentSize(size, chainID: chainID)
        return size
    }

    /// Best effort: a size that could not be written is measured again when next asked for.
    private func recordContentSize(_ size: Int64, chainID: Digest) {
        try? FileSystem.writeAtomically(sizeFile(chainID), bytes: Array(String(size).utf8), mode: 0o600)
    }

    /// Creates the container's writable upper and work dirs on top of `chainID` (nil = empty).
    public func prepare(container id: String, parent chainID: Digest?) throws {
        try validate(id)
        if let chainID, !hasLayer(chainID: chainID) { throw SnapshotError.layerNotFound(chainID) }
        let dir = containerDirectory(id)
        if mkdir(dir, 0o700) != 0 {
            if errno == EEXIST { throw SnapshotError.containerExists(id) }
            throw SnapshotError.fileSystem(operation: "create", path: dir, errno: errno)
        }
        do {
            try wrap("create", "\(dir)/upper") { try FileSystem.makeDirectories("\(dir)/upper", mode: 0o755) }
            try wrap("create", "\(dir)/work") { try FileSystem.makeDirectories("\(dir)/work", mode: 0o700) }
            try wrap("write", "\(dir)/parent") {
                try FileSystem.writeAtomically("\(dir)/parent", bytes: Array((chainID?.description ?? "").utf8), mode: 0o600)
            }
        } catch {
            try? FileSystem.removeTree(dir)
            throw error
        }
    }

    /// The IDs of every container snapshot (prepared and not yet removed).
    public func containerIDs() -> [String] {
        FileSystem.listDirectory("\(root)/containers")
    }

    /// Removes the container's upper and work dirs. Unmount its rootfs first.
    public func remove(container id: String) throws {
        try remove(container: id) { try FileSystem.removeTree($0) }
    }

    /// Hands the directory holding the container's upper and work dirs to `discard`, which must
    /// take it away (rename or delete it). Unmount its rootfs first.
    public func remove(container id: String, discard: (String) throws -> Void) throws {
        try validate(id)
        try wrap("remove", containerDirectory(id)) { try discard(containerDirectory(id)) }
    }

    /// Removes `layers/tmp-*` left by unpacks that a crash interrupted. Call once at daemon
    /// start, before any unpack runs: an unpack in progress would lose its directory.
    public func removeTemporaryLayers() throws {
        for name in FileSystem.listDirectory("\(root)/layers") where name.hasPrefix("tmp-") {
            try wrap("remove", "\(root)/layers/\(name)") { try FileSystem.removeTree("\(root)/layers/\(name)") }
        }
    }

    /// The container's writable upper directory. `id` must be one `prepare` accepted.
    public func upperDirectory(container id: String) -> String { "\(containerDirectory(id))/upper" }

    /// The lower directories of the container, top-most first (`empty/` when it has no layers).
    func lowerDirectories(container id: String) throws -> [String] {
        try validate(id)
        let parentFile = "\(containerDirectory(id))/parent"
        guard let bytes = try? FileSystem.readFile(parentFile) else { throw SnapshotError.containerNotFound(id) }
        var lowers: [String] = []
        var next = String(decoding: bytes, as: UTF8.self)
        while !next.isEmpty {
            guard let chainID = try? Digest(parsing: next) else { throw SnapshotError.corruptMetadata(path: parentFile) }
            guard hasLayer(chainID: chainID) else { throw SnapshotError.layerNotFound(chainID) }
            lowers.append(layerDirectory(chainID))
            next = String(decoding: (try? FileSystem.readFile(chainFile(chainID))) ?? [], as: UTF8.self)
        }
        return lowers.isEmpty ? ["\(root)/empty"] : lowers
    }

    private func unpackLayer(_ input: LayerInput, diffID: Digest, chainID: Digest, parent: Digest?) throws {
        let temporary = "\(root)/layers/tmp-\(randomSuffix())"
        guard mkdir(temporary, 0o755) == 0 else {
            throw SnapshotError.fileSystem(operation: "create", path: temporary, errno: errno)
        }
        do {
            let applied = try applier.apply(input, to: temporary)
            guard applied.diffID == diffID else {
                throw SnapshotError.diffIDMismatch(layer: input.name, expected: diffID, actual: applied.diffID)
            }
            try wrap("write", chainFile(chainID)) {
                try FileSystem.writeAtomically(chainFile(chainID), bytes: Array((parent?.description ?? "").utf8), mode: 0o600)
            }
            recordContentSize(applied.contentSize, chainID: chainID)
            // The rename makes the layer trusted: its files must be on disk before it, or a power
            // loss could leave a trusted layer with empty or missing files. One syncfs of the
            // file system costs less than an fsync per file (a layer has thousands).
            try wrap("sync", temporary) { try FileSystem.syncFileSystem(containing: temporary) }
            if rename(temporary, layerDirectory(chainID)) != 0 {
                // Another unpack of the same chain committed first: theirs is as good as ours.
                guard errno == EEXIST || errno == ENOTEMPTY else {
                    throw SnapshotError.fileSystem(operation: "commit layer", path: layerDirectory(chainID), errno: errno)
                }
                try? FileSystem.removeTree(temporary)
            }
            FileSystem.syncDirectory("\(root)/layers")
        } catch {
            try? FileSystem.removeTree(temporary)
            throw error
        }
    }

    func layerDirectory(_ chainID: Digest) -> String { "\(root)/layers/\(chainID.encoded)" }
    func chainFile(_ chainID: Digest) -> String { "\(root)/chains/\(chainID.encoded)" }
    private func sizeFile(_ chainID: Digest) -> String { "\(root)/sizes/\(chainID.encoded)" }
    func containerDirectory(_ id: String) -> String { "\(root)/containers/\(id)" }

    /// Container IDs become path components: only `[A-Za-z0-9_.-]`, not `.` or `..`, at most
    /// 128 bytes (CVE-2014-9358).
    func validate(_ id: String) throws {
        let allowed = id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f || b == 0x2e || b == 0x2d
        }
        guard allowed, !id.isEmpty, id.utf8.count <= 128, id != ".", id != ".." else {
            throw SnapshotError.invalidContainerID(id)
        }
    }
}

/// 16 random hex digits for temporary names.
func randomSuffix() -> String {
    String(UInt64.random(in: 0...UInt64.max), radix: 16)
}

/// Runs `body`, turning a `FileSystemError` into a `SnapshotError` naming `path`.
func wrap(_ operation: String, _ path: String, _ body: () throws -> Void) throws {
    do { try body() } catch let error as FileSystemError {
        throw SnapshotError.fileSystem(operation: operation, path: path, errno: error.errno)
    }
}
