import BerthSystem
import CBerthSys
import Glibc

/// Resolves docker's `--user user[:group]` against the container's own `/etc/passwd` and
/// `/etc/group`, read inside the container's root (a symlink in the image cannot make the
/// engine read a host file).
struct UserResolver {
    let rootfs: String

    struct Resolved: Equatable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]
        var home: String
    }

    /// `spec` (`user[:group]`) plus `groupAdd` (`--group-add`: names from the container's
    /// /etc/group or numbers) as supplementary groups.
    func resolve(_ spec: String, groupAdd: [String] = []) throws -> Resolved {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let userPart = parts.first ?? ""
        let groupPart = parts.count > 1 ? parts[1] : nil
        let passwd = entries(of: "/etc/passwd")
        let groups = entries(of: "/etc/group")
        var uid: UInt32 = 0, gid: UInt32 = 0, name = "root", home = "/"
        if userPart.isEmpty {
            if let root = passwd.first(where: { $0.count > 5 && $0[2] == "0" }) { home = root[5] }
        } else if let numeric = UInt32(userPart) {
            uid = numeric
            if let entry = passwd.first(where: { $0.count > 5 && $0[2] == userPart }) {
                gid = UInt32(entry[3]) ?? 0
                name = entry[0]
                home = entry[5]
            } else {
                name = ""
            }
        } else {
            guard let entry = passwd.first(where: { $0.count > 5 && $0[0] == userPart }),
                  let u = UInt32(entry[2]), let g = UInt32(entry[3]) else {
                throw EngineError.invalidParameter("unable to find user \(userPart): no matching entries in passwd file")
            }
            uid = u; gid = g; name = entry[0]; home = entry[5]
        }
        if let groupPart {
            if let numeric = UInt32(groupPart) {
                gid = numeric
            } else if let entry = groups.first(where: { $0.count > 2 && $0[0] == groupPart }), let g = UInt32(entry[2]) {
                gid = g
            } else {
                throw EngineError.invalidParameter("unable to find group \(groupPart): no matching entries in group file")
            }
        }
        var additional: [UInt32] = []
        if !name.isEmpty && groupPart == nil {
            for entry in groups where entry.count > 3 {
                let members = entry[3].split(separator: ",").map(String.init)
                if members.contains(name), let g = UInt32(entry[2]), g != gid, !additional.contains(g) { additional.append(g) }
            }
        }
        for group in groupAdd {
            let g: UInt32
            if let numeric = UInt32(group) {
                g = numeric
            } else if let entry = groups.first(where: { $0.count > 2 && $0[0] == group }), let found = UInt32(entry[2]) {
                g = found
            } else {
                throw EngineError.invalidParameter("Unable to find group \(group): no matching entries in group file")
            }
            if !additional.contains(g) { additional.append(g) }
        }
        return Resolved(uid: uid, gid: gid, additionalGids: additional, home: home.isEmpty ? "/" : home)
    }

    /// The largest passwd or group file read (glibc reads any size; 4 MiB is ~50 000 users).
    static let fileLimit = 4 << 20

    /// The colon-separated lines of a file inside the root; empty when it is missing, is not
    /// a regular file (a FIFO or device planted by the image) or is over `fileLimit`.
    private func entries(of path: String) -> [[String]] {
        guard let bytes = try? FileSystem.readRegularFile(path, inRoot: rootfs, limit: Self.fileLimit) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
