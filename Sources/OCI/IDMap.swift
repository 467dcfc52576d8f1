/// The user and group ID mappings of a user namespace (config-linux.md "User namespace
/// mappings"): which host IDs the container's IDs are. Translates in both directions; an ID
/// outside every range has no counterpart.
public struct IDMap: Codable, Sendable, Hashable {
    /// User ID ranges, container ID first.
    public var uids: [RuntimeSpec.IDMapping]
    /// Group ID ranges, container ID first.
    public var gids: [RuntimeSpec.IDMapping]

    /// The kernel's overflow ID (`/proc/sys/fs/overflowuid`): what a process in the namespace
    /// sees as the owner of a file whose owner is not mapped.
    public static let overflowID: UInt32 = 65534

    /// A map of the given ranges.
    public init(uids: [RuntimeSpec.IDMapping], gids: [RuntimeSpec.IDMapping]) {
        self.uids = uids
        self.gids = gids
    }

    /// The host user that is root in the namespace, if root is mapped.
    public var hostRootUID: UInt32? { hostUID(ofContainer: 0) }
    /// The host group that is group 0 in the namespace, if it is mapped.
    public var hostRootGID: UInt32? { hostGID(ofContainer: 0) }

    /// The host user that container user `uid` is, if it is mapped.
    public func hostUID(ofContainer uid: UInt32) -> UInt32? { IDMap.host(uid, in: uids) }
    /// The host group that container group `gid` is, if it is mapped.
    public func hostGID(ofContainer gid: UInt32) -> UInt32? { IDMap.host(gid, in: gids) }

    /// The container's view of host user `uid`: its mapped ID, or the overflow ID.
    public func containerUID(ofHost uid: UInt32) -> UInt32 { IDMap.container(uid, in: uids) ?? IDMap.overflowID }
    /// The container's view of host group `gid`: its mapped ID, or the overflow ID.
    public func containerGID(ofHost gid: UInt32) -> UInt32 { IDMap.container(gid, in: gids) ?? IDMap.overflowID }

    /// The highest group ID the container can name (for sysctls taking a group range).
    public var highestContainerGID: UInt32 {
        gids.map { $0.containerID &+ ($0.size &- 1) }.max() ?? 0
    }

    /// The content of `/proc/<pid>/uid_map` for these ranges.
    public var uidMapText: String { IDMap.text(uids) }
    /// The content of `/proc/<pid>/gid_map` for these ranges.
    public var gidMapText: String { IDMap.text(gids) }

    private static func host(_ id: UInt32, in ranges: [RuntimeSpec.IDMapping]) -> UInt32? {
        for range in ranges where id >= range.containerID && UInt64(id) < UInt64(range.containerID) + UInt64(range.size) {
            return range.hostID + (id - range.containerID)
        }
        return nil
    }

    private static func container(_ id: UInt32, in ranges: [RuntimeSpec.IDMapping]) -> UInt32? {
        for range in ranges where id >= range.hostID && UInt64(id) < UInt64(range.hostID) + UInt64(range.size) {
            return range.containerID + (id - range.hostID)
        }
        return nil
    }

    private static func text(_ ranges: [RuntimeSpec.IDMapping]) -> String {
        ranges.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }
}
