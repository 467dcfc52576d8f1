import Glibc

/// The names in directory `dir` (without `.` and `..`), sorted bytewise.
func sortedNames(_ dir: Int32, entry: [UInt8]) throws -> [[UInt8]] {
    let copy = dup(dir)
    guard copy >= 0, let stream = fdopendir(copy) else {
        if copy >= 0 { close(copy) }
        throw LayerError.fileSystem(entry: displayName(entry), operation: "read directory", errno: errno)
    }
    defer { closedir(stream) }
    var names: [[UInt8]] = []
    while let item = readdir(stream) {
        let name = directoryEntryName(item)
        if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
    }
    return names.sorted { $0.lexicographicallyPrecedes($1) }
}

/// The target of the symbolic link `name` in `dir`.
func readLink(_ dir: Int32, _ name: [UInt8], path: [UInt8]) throws -> [UInt8] {
    var size = 256
    while true {
        var target = [UInt8](repeating: 0, count: size)
        let n = withCString(name) { link in
            target.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars -> Int in
                    guard let base = chars.baseAddress else { return -1 }
                    return readlinkat(dir, link, base, chars.count)
                }
            }
        }
        guard n >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "read link", errno: errno) }
        if n < size { return Array(target[0..<n]) }
        size *= 4
    }
}

/// The extended attributes of `name` in `dir` (not following a link), in name order.
func extendedAttributes(_ dir: Int32, _ name: [UInt8], path: [UInt8]) throws -> [(String, [UInt8])] {
    try withCString(procPath(dir, name)) { file in
        let listSize = llistxattr(file, nil, 0)
        guard listSize > 0 else {
            if listSize == 0 || errno == ENOTSUP || errno == EOPNOTSUPP { return [] }
            throw LayerError.fileSystem(entry: displayName(path), operation: "list extended attributes", errno: errno)
        }
        var list = [CChar](repeating: 0, count: listSize)
        let got = llistxattr(file, &list, listSize)
        guard got >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "list extended attributes", errno: errno) }
        let keys = list[0..<got].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var result: [(String, [UInt8])] = []
        for key in keys.sorted() {
            let size = lgetxattr(file, key, nil, 0)
            if size < 0 && errno == ENODATA { continue }
            guard size >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "read extended attribute \(key)", errno: errno) }
            var value = [UInt8](repeating: 0, count: size)
            let read = value.withUnsafeMutableBytes { lgetxattr(file, key, $0.baseAddress, size) }
            guard read >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "read extended attribute \(key)", errno: errno) }
            result.append((key, Array(value[0..<read])))
        }
        return result
    }
}
