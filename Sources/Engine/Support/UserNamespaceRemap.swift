import BerthSystem
import Glibc
import OCI

/// `berthd --userns-remap`: every container (unless it asks for `--userns=host`) runs in a
/// user namespace whose root is an unprivileged host user, with IDs from that user's
/// subordinate ranges in `/etc/subuid` and `/etc/subgid`, as dockerd's option does.
/// `default` means the user `dockremap`, created (with a free 65536-ID range) when missing.
public struct UserNamespaceRemap: Sendable, Equatable {
    /// The host user whose subordinate IDs the containers get.
    public let user: String
    /// Container IDs 0… onto the user's ranges, in ascending order of host ID.
    public let map: IDMap

    /// The user `default` stands for (dockerd's name, so both daemons can share its ranges).
    public static let defaultUser = "dockremap"
    /// The size of the range given to a user that `default` creates.
    static let defaultRangeSize: UInt32 = 65536

    /// Resolves the option's value: `default`, `USER`, `USER:GROUP`, `UID` or `UID:GID`.
    /// Throws `invalidParameter` naming what is missing (an unknown user or group, no
    /// subordinate ranges).
    public static func resolve(_ value: String, subuidPath: String = "/etc/subuid", subgidPath: String = "/etc/subgid") throws -> UserNamespaceRemap {
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty, parts.count < 2 || !parts[1].isEmpty else {
            throw EngineError.invalidParameter("--userns-remap \"\(value)\": expected default, USER, USER:GROUP, UID or UID:GID")
        }
        if first == "default" {
            try createDefaultUser(subuidPath: subuidPath, subgidPath: subgidPath)
            return try resolve(defaultUser, subuidPath: subuidPath, subgidPath: subgidPath)
        }
        let user = try hostUser(first)
        // Without a group, /etc/subgid is searched for the user's own name, as dockerd does.
        let group = parts.count == 2 ? try hostGroup(parts[1]) : user
        let uids = ranges(of: user.name, id: user.id, in: (try? FileSystem.readFile(subuidPath)) ?? [])
        let gids = ranges(of: group.name, id: group.id, in: (try? FileSystem.readFile(subgidPath)) ?? [])
        guard !uids.isEmpty else { throw EngineError.invalidParameter("no subordinate user IDs for \(user.name) in \(subuidPath) (add a line \(user.name):100000:65536)") }
        guard !gids.isEmpty else { throw EngineError.invalidParameter("no subordinate group IDs for \(group.name) in \(subgidPath) (add a line \(group.name):100000:65536)") }
        return UserNamespaceRemap(user: user.name, map: IDMap(uids: mapping(uids), gids: mapping(gids)))
    }

    /// The ranges (host start, count) a subordinate-ID file lists for `name` or numeric `id`.
    static func ranges(of name: String, id: UInt32, in file: [UInt8]) -> [(start: UInt32, count: UInt32)] {
        var result: [(start: UInt32, count: UInt32)] = []
        for line in String(decoding: file, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, fields[0] == name || fields[0] == String(id),
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0,
                  UInt64(start) + UInt64(count) <= UInt64(UInt32.max) else { continue }
            result.append((start, count))
        }
        return result
    }

    /// Container IDs from 0, one range after another in ascending host order.
    static func mapping(_ ranges: [(start: UInt32, count: UInt32)]) -> [RuntimeSpec.IDMapping] {
        var next: UInt32 = 0
        var result: [RuntimeSpec.IDMapping] = []
        for range in ranges.sorted(by: { $0.start < $1.start }) {
            let (end, overflow) = next.addingReportingOverflow(range.count)
            if overflow { break }
            result.append(.init(containerID: next, hostID: range.start, size: range.count))
            next = end
        }
        return result
    }

    /// The lowest start ≥ 100000 where `size` IDs overlap no range of any user in `file`.
    static func freeRange(size: UInt32, in file: [UInt8]) -> UInt32 {
        var taken: [(start: UInt64, end: UInt64)] = []
        for line in String(decoding: file, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, let start = UInt64(fields[1]), let count = UInt64(fields[2]) else { continue }
            taken.append((start, start + count))
        }
        var candidate: UInt64 = 100_000
        for range in taken.sorted(by: { $0.start < $1.start }) where range.start < candidate + UInt64(size) && range.end > candidate {
            candidate = range.end
        }
        return UInt32(clamping: candidate)
    }

    private static func createDefaultUser(subuidPath: String, subgidPath: String) throws {
        if getpwnam(defaultUser) == nil {
            let result = try ProcessRunner.runBlocking(["/usr/sbin/useradd", "--system", "--user-group", "--no-create-home",
                                                        "--shell", "/bin/false", defaultUser])
            guard result.status == 0 else { throw EngineError.failure("cannot create user \(defaultUser) for --userns-remap: \(result.stderrText)") }
        }
        for (path, flag) in [(subuidPath, "--add-subuids"), (subgidPath, "--add-subgids")] {
            let file = (try? FileSystem.readFile(path)) ?? []
            guard ranges(of: defaultUser, id: UInt32.max, in: file).isEmpty else { continue }
            let start = freeRange(size: defaultRangeSize, in: file)
            let result = try ProcessRunner.runBlocking(["/usr/sbin/usermod", flag, "\(start)-\(start + defaultRangeSize - 1)", defaultUser])
            guard result.status == 0 else { throw EngineError.failure("cannot give \(defaultUser) subordinate IDs in \(path): \(result.stderrText)") }
        }
    }

    private static func hostUser(_ nameOrID: String) throws -> (name: String, id: UInt32) {
        let entry = UInt32(nameOrID).map { getpwuid($0) } ?? getpwnam(nameOrID)
        guard let entry, let name = entry.pointee.pw_name else {
            throw EngineError.invalidParameter("--userns-remap: no such user \"\(nameOrID)\" on this host")
        }
        return (String(cString: name), entry.pointee.pw_uid)
    }

    private static func hostGroup(_ nameOrID: String) throws -> (name: String, id: UInt32) {
        let entry = UInt32(nameOrID).map { getgrgid($0) } ?? getgrnam(nameOrID)
        guard let entry, let name = entry.pointee.gr_name else {
            throw EngineError.invalidParameter("--userns-remap: no such group \"\(nameOrID)\" on this host")
        }
        return (String(cString: name), entry.pointee.gr_gid)
    }
}
