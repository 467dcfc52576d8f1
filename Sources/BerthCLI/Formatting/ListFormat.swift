import BerthSystem
/// The rows of `ps` and `images`, column for column as docker prints them.
enum ListFormat {
    /// `ps` header.
    static let containerHeader = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    /// `images` header.
    static let imageHeader = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]

    /// `history` header.
    static let historyHeader = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]

    /// One `history` row: `<missing>` for layers without a local image, the command cut to 45
    /// characters when truncating.
    static func historyRow(_ item: HistoryItem, now: Int64, truncate: Bool) -> [String] {
        var id = item.id ?? "<missing>"
        if id != "<missing>" && truncate { id = Text.shortID(id) }
        var createdBy = String(String.UnicodeScalarView((item.createdBy ?? "").unicodeScalars.map { $0 == "\t" ? " " : $0 }))
        if truncate { createdBy = Text.ellipsis(createdBy, width: 45) }
        let created = item.created.map { HumanDuration.ago(created: $0, now: now) } ?? ""
        return [id, created, createdBy, ByteSize.humanSize(item.size ?? 0), item.comment ?? ""]
    }

    /// One `ps` row; `truncate` is false for `--no-trunc`; `now` is the current Unix time.
    static func containerRow(_ c: ContainerSummary, now: Int64, truncate: Bool) -> [String] {
        let id = truncate ? Text.shortID(c.id) : c.id
        var command = c.command ?? ""
        if truncate { command = Text.ellipsis(command, width: 20) }
        let created = c.created.map { HumanDuration.ago(created: $0, now: now) } ?? ""
        let names = (c.names ?? []).map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
            .filter { !$0.contains("/") }
        return [id, image(of: c, truncate: truncate), Text.goQuote(command), created, c.status ?? "",
                ports(c.ports ?? []), names.joined(separator: ",")]
    }

    /// The IMAGE column: `<no image>`, a short ID when the container was created from an ID,
    /// the name without its digest when truncating.
    static func image(of c: ContainerSummary, truncate: Bool) -> String {
        guard let image = c.image, !image.isEmpty else { return "<no image>" }
        guard truncate else { return image }
        if let imageID = c.imageID, Text.shortID(imageID) == Text.shortID(image) { return Text.shortID(image) }
        if let at = image.firstIndex(of: "@") { return String(image[..<at]) }
        return image
    }

    /// The PORTS column: `0.0.0.0:8080->80/tcp, 443/tcp`.
    static func ports(_ ports: [ContainerSummary.Port]) -> String {
        ports.map { port in
            let proto = port.type ?? "tcp"
            let privatePort = port.privatePort ?? 0
            guard let publicPort = port.publicPort, publicPort != 0 else { return "\(privatePort)/\(proto)" }
            var ip = port.iP ?? ""
            if ip.contains(":") { ip = "[\(ip)]" }
            return "\(ip.isEmpty ? "" : ip + ":")\(publicPort)->\(privatePort)/\(proto)"
        }.joined(separator: ", ")
    }

    /// The `images` rows of one image: one per tag, or `<none> <none>` when untagged.
    static func imageRows(_ image: ImageSummary, now: Int64, truncate: Bool) -> [[String]] {
        let id = truncate ? Text.shortID(image.id) : image.id
        let created = image.created.map { HumanDuration.ago(created: $0, now: now) } ?? ""
        let size = ByteSize.humanSize(image.size ?? 0)
        let tags = (image.repoTags ?? []).filter { $0 != "<none>:<none>" }
        if tags.isEmpty {
            var repository = "<none>"
            if let digest = image.repoDigests?.first, let at = digest.firstIndex(of: "@"),
               digest[..<at] != "<none>" {
                repository = String(digest[..<at])
            }
            return [[repository, "<none>", id, created, size]]
        }
        return tags.map { tag in
            let (repository, name) = splitTag(tag)
            return [repository, name, id, created, size]
        }
    }

    /// `repo:tag` → (`repo`, `tag`), splitting at the last colon that is not part of a host.
    static func splitTag(_ reference: String) -> (String, String) {
        guard let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") else {
            return (reference, "<none>")
        }
        return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
    }
}
