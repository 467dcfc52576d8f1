/// Go's `filepath.Clean` for "/"-separated paths: repeated and trailing slashes removed, `.`
/// elements dropped, `..` elements resolved against the element before them (and dropped at
/// the root); "." for an empty result.
enum PathClean {
    /// The cleaned path.
    static func clean(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let rooted = path.firstScalar == "/"
        var parts: [String] = []
        for element in path.unicodeScalars.split(separator: "/").map({ String($0) }) {
            switch element {
            case ".":
                continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append("..")
                }
            default:
                parts.append(element)
            }
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
