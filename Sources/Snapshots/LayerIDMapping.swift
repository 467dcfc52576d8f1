import CBerthSys
import Glibc
import OCI

/// A user namespace with the mappings of a remapped container (`berthd --userns-remap`),
/// through which its layers are mounted idmapped: the shared, unchanged layers read as owned by
/// the container's host IDs, so no layer is copied or chowned per container or per mapping.
/// The namespace lives as long as this value (no process is kept in it).
public final class LayerIDMapping: Sendable {
    /// The mappings the layers are seen through.
    public let map: IDMap
    private let namespace: Int32

    /// Creates the user namespace. Throws when the kernel refuses (for example a mapping
    /// outside what the caller may map).
    public init(map: IDMap) throws {
        let fd = berth_userns_with_maps(map.uidMapText, map.gidMapText)
        guard fd >= 0 else { throw SnapshotError.fileSystem(operation: "create a user namespace for idmapped layers", path: "/proc/self/ns/user", errno: errno) }
        self.map = map
        self.namespace = fd
    }

    deinit { close(namespace) }

    /// A detached, idmapped copy of the mount tree at `directory` (the caller closes it).
    func idmappedTree(_ directory: String) throws -> Int32 {
        let fd = berth_idmapped_tree(directory, namespace)
        guard fd >= 0 else {
            throw SnapshotError.fileSystem(operation: "mount idmapped (needs Linux ≥ 5.19 and a file system that supports idmapped mounts)", path: directory, errno: errno)
        }
        return fd
    }
}
