/// A tar entry name reduced to components inside the layer root.
///
/// Names are bytes, not `String`s, so a file called with invalid UTF-8 keeps its exact name.
/// Leading `/` and `./`, empty and `.` components are dropped (an absolute name is taken
/// relative to the root); `..` removes the previous component and is refused when nothing is
/// left to remove, so no name can point above the root lexically. Symbolic links are never
/// resolved here: that is `RootedTree`'s job, through `openat2(RESOLVE_IN_ROOT)`.
struct EntryPath: Equatable {
    /// The components; empty for the root itself.
    let components: [[UInt8]]

    /// Normalises `bytes`; returns nil when a `..` would climb above the root.
    init?(_ bytes: [UInt8]) {
        var result: [[UInt8]] = []
        for part in bytes.split(separator: 0x2f, omittingEmptySubsequences: true) {
            if part.count == 1 && part.first == 0x2e { continue }
            if part.count == 2 && part.first == 0x2e && part.last == 0x2e {
                if result.popLast() == nil { return nil }
                continue
            }
            result.append(Array(part))
        }
        components = result
    }

    private init(components: [[UInt8]]) { self.components = components }

    /// The layer root itself.
    static let root = EntryPath(components: [])

    /// The final component, or nil for the root.
    var name: [UInt8]? { components.last }

    /// The path of the parent directory (the root for top-level entries).
    var parent: EntryPath { EntryPath(components: Array(components.dropLast())) }

    /// Components joined with `/` (`.` for the root), ready to hand to a system call.
    var relative: [UInt8] {
        components.isEmpty ? [0x2e] : Array(components.joined(separator: [0x2f]))
    }
}

/// Bytes as readable text for messages (invalid UTF-8 shown as U+FFFD).
func displayName(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Runs `body` with `bytes` as a NUL-terminated C string.
func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    var terminated = bytes
    terminated.append(0)
    return try terminated.withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}
