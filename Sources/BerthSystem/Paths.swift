import Glibc

/// Path arithmetic on strings, without touching the file system.
public enum Paths {
    /// `path` made absolute against the current working directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return clean(path) }
        guard let cwd = getcwd(nil, 0) else { return clean("/" + path) }
        defer { free(cwd) }
        return clean(String(cString: cwd) + "/" + path)
    }

    /// `path` made absolute against `base` (when it is relative).
    public static func resolve(_ path: String, relativeTo base: String) -> String {
        path.hasPrefix("/") ? clean(path) : clean(base + "/" + path)
    }

    /// Lexically cleaned absolute path: no `.`, `..`, or repeated slashes.
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == ".." { _ = parts.popLast(); continue }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Components of a cleaned absolute path (`/a/b` → `["a", "b"]`).
    public static func components(_ path: String) -> [String] {
        clean(path).split(separator: "/").map(String.init)
    }
}
