import BerthSystem
import Glibc

/// One `RUN --mount=…` (BuildKit's run mounts): `type=bind` (read-only unless `rw`, from the
/// context), `type=cache` (a directory kept between builds, per `id`), `type=tmpfs`,
/// `type=secret` (a `--secret` given to the build, at `/run/secrets/<id>` by default, never
/// stored in a layer or in history).
struct RunMount: Sendable, Equatable {
    enum Kind: String, Sendable {
        case bind, cache, tmpfs, secret
    }

    var kind: Kind
    var target: String
    var source: String
    var from: String?
    var readOnly: Bool
    var id: String
    var mode: mode_t?
    var uid: uid_t?
    var gid: gid_t?
    var size: String?
    var required: Bool

    /// Parses the flag's value (`type=cache,target=/root/.cache,id=x`); errors name the field.
    init(parsing text: String) throws {
        var fields: [String: String] = [:]
        var bare: Set<String> = []
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1).map { String($0).trimmed }
            if parts.count == 2 { fields[parts[0].lowercased()] = parts[1] } else { bare.insert(parts[0].lowercased()) }
        }
        guard let kind = Kind(rawValue: (fields["type"] ?? "bind").lowercased()) else {
            throw BuildError.dockerfile("unsupported mount type \(fields["type"] ?? ""): bind, cache, tmpfs and secret are")
        }
        self.kind = kind
        let target = fields["target"] ?? fields["dst"] ?? fields["destination"]
        self.id = fields["id"] ?? ""
        if kind == .secret {
            guard !id.isEmpty || target != nil else { throw BuildError.dockerfile("a secret mount needs an id or a target") }
            self.target = target ?? "/run/secrets/" + id
            if id.isEmpty { id = String(self.target.split(separator: "/").last ?? "") }
        } else {
            guard let target, !target.isEmpty else { throw BuildError.dockerfile("mount \(text) has no target") }
            self.target = target
        }
        self.source = fields["source"] ?? fields["src"] ?? ""
        self.from = fields["from"]
        let writable = bare.contains("rw") || bare.contains("readwrite") || ["true", "1"].contains(fields["rw"] ?? fields["readwrite"] ?? "")
        let readOnly = bare.contains("ro") || bare.contains("readonly") || ["true", "1"].contains(fields["ro"] ?? fields["readonly"] ?? "")
        self.readOnly = kind == .secret || (kind == .bind ? !writable : readOnly)
        if let mode = fields["mode"] {
            guard let parsed = mode_t(mode, radix: 8), parsed <= 0o7777 else { throw BuildError.dockerfile("invalid mount mode \(mode)") }
            self.mode = parsed
        }
        if let uid = fields["uid"] {
            guard let parsed = uid_t(uid) else { throw BuildError.dockerfile("invalid mount uid \(uid)") }
            self.uid = parsed
        }
        if let gid = fields["gid"] {
            guard let parsed = gid_t(gid) else { throw BuildError.dockerfile("invalid mount gid \(gid)") }
            self.gid = parsed
        }
        self.size = fields["size"]
        self.required = ["true", "1"].contains(fields["required"] ?? "") || bare.contains("required")
        if kind == .cache && id.isEmpty { id = self.target }
        guard self.target.hasPrefix("/") else { throw BuildError.dockerfile("mount target \(self.target) must be an absolute path") }
    }

    /// The mount as the cache key sees it (what it makes the step depend on).
    var keyText: String {
        "\(kind.rawValue):\(target):\(source):\(from ?? ""):\(readOnly):\(id):\(mode.map { String($0, radix: 8) } ?? ""):\(uid.map(String.init) ?? ""):\(gid.map(String.init) ?? "")"
    }
}
