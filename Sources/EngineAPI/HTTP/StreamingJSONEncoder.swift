import BerthSystem

/// Encodes `Encodable` values straight into JSON bytes, in one pass and without the tree of
/// boxed values Foundation's `JSONEncoder` builds first; written for the API's responses,
/// where that tree was most of the time of a 100-container list (retain/release, hashing).
/// Output: the same JSON documents `JSONEncoder` makes with its defaults, except that `/` is
/// not escaped and floating-point numbers are written as Swift prints them.
///
/// A streaming encoder learns that a container is finished only when its parent writes again,
/// so the writer keeps a stack of open containers with their nesting depth and closes the
/// deeper ones before each new member and at the end.
struct StreamingJSONEncoder {
    /// The JSON of `value`; throws for a non-finite floating-point number, as `JSONEncoder` does.
    func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONByteWriter()
        try writer.encode(value, depth: 0)
        writer.close(deeperThan: -1)
        return writer.bytes
    }
}

/// The bytes written so far and the containers still open.
final class JSONByteWriter {
    // One encoding runs on one thread and never holds an access across a call that could
    // reach the same property, so the run-time exclusivity checks (an eighth of the time of a
    // list in a profile, with the thread-local lookups they make) are left out.
    @exclusivity(unchecked) private(set) var bytes: [UInt8] = []
    /// Open containers, innermost last.
    @exclusivity(unchecked) private var open: [OpenContainer] = []

    struct OpenContainer {
        var depth: Int
        var keyed: Bool
        var hasMember = false
    }

    init() {
        bytes.reserveCapacity(4096)
    }

    /// Writes `}` or `]` for every open container deeper than `depth`.
    func close(deeperThan depth: Int) {
        while let last = open.last, last.depth > depth {
            bytes.append(last.keyed ? UInt8(ascii: "}") : UInt8(ascii: "]"))
            open.removeLast()
        }
    }

    /// Opens a container for the value at `depth`; a second request for the same value's
    /// container (a subclass encoding its superclass's keys) continues the open one.
    func openContainer(depth: Int, keyed: Bool) {
        close(deeperThan: depth)
        if let last = open.last, last.depth == depth, last.keyed == keyed { return }
        bytes.append(keyed ? UInt8(ascii: "{") : UInt8(ascii: "["))
        open.append(OpenContainer(depth: depth, keyed: keyed))
    }

    /// Starts a member of the container at `depth`: closes what is deeper and writes the comma
    /// (and for an object the key and colon).
    func beginMember(depth: Int, key: String?) {
        close(deeperThan: depth)
        if open[open.count - 1].hasMember {
            bytes.append(UInt8(ascii: ","))
        } else {
            open[open.count - 1].hasMember = true
        }
        if let key {
            writeString(key)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    /// Writes `value` as the value at `depth`; a value that writes nothing is `{}`, as in
    /// `JSONEncoder`.
    func encode<T: Encodable>(_ value: T, depth: Int) throws {
        // Every type whose own encoding is a single primitive is written here: handing it to
        // `encode(to:)` would come straight back. Types are compared by identity (a pointer
        // comparison each) rather than tried with casts, which cost more than the writing.
        switch ObjectIdentifier(T.self) {
        case ObjectIdentifier(String.self): return writeString(unsafeBitCast(value, to: String.self))
        case ObjectIdentifier(Bool.self): return writeLiteral(unsafeBitCast(value, to: Bool.self) ? "true" : "false")
        case ObjectIdentifier(Int.self): return writeLiteral(String(unsafeBitCast(value, to: Int.self)))
        case ObjectIdentifier(Int64.self): return writeLiteral(String(unsafeBitCast(value, to: Int64.self)))
        case ObjectIdentifier(Int32.self): return writeLiteral(String(unsafeBitCast(value, to: Int32.self)))
        case ObjectIdentifier(Int16.self): return writeLiteral(String(unsafeBitCast(value, to: Int16.self)))
        case ObjectIdentifier(Int8.self): return writeLiteral(String(unsafeBitCast(value, to: Int8.self)))
        case ObjectIdentifier(UInt.self): return writeLiteral(String(unsafeBitCast(value, to: UInt.self)))
        case ObjectIdentifier(UInt64.self): return writeLiteral(String(unsafeBitCast(value, to: UInt64.self)))
        case ObjectIdentifier(UInt32.self): return writeLiteral(String(unsafeBitCast(value, to: UInt32.self)))
        case ObjectIdentifier(UInt16.self): return writeLiteral(String(unsafeBitCast(value, to: UInt16.self)))
        case ObjectIdentifier(UInt8.self): return writeLiteral(String(unsafeBitCast(value, to: UInt8.self)))
        case ObjectIdentifier(Double.self): return try writeNumber(unsafeBitCast(value, to: Double.self))
        case ObjectIdentifier(Float.self): return try writeNumber(Double(unsafeBitCast(value, to: Float.self)))
        default: break
        }
        let before = bytes.count
        try value.encode(to: StreamingEncoder(writer: self, depth: depth))
        if bytes.count == before { writeLiteral("{}") }
    }

    func writeString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { JSONEscape.append($0, to: &bytes) }
        if done == nil { JSONEscape.append(ArraySlice(string.utf8), to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    func writeLiteral(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Integral values as integers (`JSONEncoder` writes `3` for 3.0 too), others as Swift
    /// prints them.
    func writeNumber(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is not a valid JSON number"))
        }
        if value == value.rounded(), abs(value) < 1e15 {
            writeLiteral(String(Int64(value)))
        } else {
            writeLiteral(String(value))
        }
    }
}

/// The `Encoder` handed to each value: where it sits (its depth) and where to write. Coding
/// paths are not tracked (they would cost an array per member); they are always empty.
struct StreamingEncoder: Encoder {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        writer.openContainer(depth: depth, keyed: true)
        return KeyedEncodingContainer(KeyedStreamingContainer<Key>(writer: writer, depth: depth))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.openContainer(depth: depth, keyed: false)
        return UnkeyedStreamingContainer(writer: writer, depth: depth)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueStreamingContainer(writer: writer, depth: depth)
    }
}

struct KeyedStreamingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        writer.writeLiteral("null")
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        try writer.encode(value, depth: depth + 1)
    }

    // The common primitives without the dynamic casts of the generic path.
    mutating func encode(_ value: String, forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        writer.writeString(value)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        writer.writeLiteral(value ? "true" : "false")
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        writer.writeLiteral(String(value))
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        writer.writeLiteral(String(value))
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        writer.beginMember(depth: depth, key: key.stringValue)
        writer.writeLiteral(String(value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        writer.beginMember(depth: depth, key: key.stringValue)
        return StreamingEncoder(writer: writer, depth: depth + 1).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        writer.beginMember(depth: depth, key: key.stringValue)
        return StreamingEncoder(writer: writer, depth: depth + 1).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        writer.beginMember(depth: depth, key: "super")
        return StreamingEncoder(writer: writer, depth: depth + 1)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        writer.beginMember(depth: depth, key: key.stringValue)
        return StreamingEncoder(writer: writer, depth: depth + 1)
    }
}

struct UnkeyedStreamingContainer: UnkeyedEncodingContainer {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    private(set) var count = 0

    init(writer: JSONByteWriter, depth: Int) {
        self.writer = writer
        self.depth = depth
    }

    mutating func encodeNil() throws {
        writer.beginMember(depth: depth, key: nil)
        writer.writeLiteral("null")
        count += 1
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        writer.beginMember(depth: depth, key: nil)
        try writer.encode(value, depth: depth + 1)
        count += 1
    }

    mutating func encode(_ value: String) throws {
        writer.beginMember(depth: depth, key: nil)
        writer.writeString(value)
        count += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        writer.beginMember(depth: depth, key: nil)
        count += 1
        return StreamingEncoder(writer: writer, depth: depth + 1).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.beginMember(depth: depth, key: nil)
        count += 1
        return StreamingEncoder(writer: writer, depth: depth + 1).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        writer.beginMember(depth: depth, key: nil)
        count += 1
        return StreamingEncoder(writer: writer, depth: depth + 1)
    }
}

struct SingleValueStreamingContainer: SingleValueEncodingContainer {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws {
        writer.close(deeperThan: depth)
        writer.writeLiteral("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        writer.close(deeperThan: depth)
        try writer.encode(value, depth: depth)
    }

    mutating func encode(_ value: String) throws {
        writer.close(deeperThan: depth)
        writer.writeString(value)
    }
}
