#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine
import OCI
import Testing
@testable import EngineAPI

/// Any JSON document, to compare two encoders' output as documents (key order aside).
private indirect enum JSONValue: Decodable, Equatable {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null

    init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let bool = try? single.decode(Bool.self) { self = .bool(bool) }
        else if let number = try? single.decode(Double.self) { self = .number(number) }
        else if let string = try? single.decode(String.self) { self = .string(string) }
        else if let array = try? single.decode([JSONValue].self) { self = .array(array) }
        else { self = .object(try single.decode([String: JSONValue].self)) }
    }
}

private struct Sample: Encodable {
    struct Inner: Encodable { var name: String; var tags: [String]?; var empty = EmptyJSON() }
    enum Shape: Encodable {
        case point(x: Int, y: Int)
        func encode(to encoder: Encoder) throws {
            guard case .point(let x, let y) = self else { return }
            var c = encoder.container(keyedBy: Keys.self)
            var nested = c.nestedContainer(keyedBy: Keys.self, forKey: .point)
            try nested.encode(x, forKey: .x)
            try nested.encode(y, forKey: .y)
            var list = c.nestedUnkeyedContainer(forKey: .list)
            try list.encode(x)
            try list.encodeNil()
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encode("in")
            try c.encode(true, forKey: .after)
        }
        enum Keys: String, CodingKey { case point, x, y, list, after }
    }
    var text = "quote \" backslash \\ newline \n tab \t control \u{01} unicode é 🚢 slash /"
    var numbers: [Int64] = [0, -1, Int64.max, Int64.min]
    var unsigned: UInt64 = UInt64.max
    var small: UInt8 = 7
    var doubles = [0.5, -2.25, 3.0, 1e20]
    var flags = [true, false]
    var missing: String? = nil
    var present: Int? = 4
    var optionals: [Int?] = [1, nil, 3]
    var inners = [Inner(name: "a", tags: []), Inner(name: "b", tags: nil), Inner(name: "c", tags: ["x", "y"])]
    var map = ["k1": [1, 2], "k2": []]
    var emptyMap: [String: String] = [:]
    var nestedArrays = [[[Int]]](arrayLiteral: [[1], []], [])
    var shape = Shape.point(x: 1, y: 2)
    var timestamp = Timestamp(seconds: 1_700_000_000, nanoseconds: 5)
    var last = "end"
}

@Suite struct StreamingJSONEncoderTests {
    private func sameDocument<T: Encodable>(_ value: T) throws {
        let streamed = try StreamingJSONEncoder().encode(value)
        let reference = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(streamed)) == JSONDecoder().decode(JSONValue.self, from: reference),
                "\(String(decoding: streamed, as: UTF8.self))")
    }

    @Test func matchesFoundationsEncoderOnEveryShape() throws {
        try sameDocument(Sample())
        try sameDocument([Sample(), Sample()])
        try sameDocument(EmptyJSON())
        try sameDocument([String: [String: Int]]())
        try sameDocument("top-level string")
        try sameDocument(42)
    }

    @Test func matchesOnTheAPIsContainerDocuments() throws {
        var spec = ContainerSpec()
        spec.image = "busybox"
        spec.process.cmd = ["sh", "-c", "echo \"hi\""]
        spec.labels = ["a": "1", "b": "two words"]
        spec.storage.binds = ["/h:/c:ro"]
        spec.restartPolicy = .onFailure(maximumRetries: 3)
        let mount = MountPoint(kind: .volume, name: "v", source: "/var/lib/berth/volumes/v/_data", destination: "/data")
        var record = ContainerRecord(id: String(repeating: "c", count: 64), name: "web", created: Timestamp(seconds: 1, nanoseconds: 2),
                                     image: try Digest(sha256Hex: String(repeating: "0", count: 64)), imageName: "busybox", spec: spec,
                                     path: "sh", args: ["-c", "echo \"hi\""], state: .created, restartCount: 0, runtime: "berth",
                                     parentChainID: nil, mounts: [mount])
        record.state.health = HealthState.starting
        try sameDocument(ContainerInspect(record, directory: "/var/lib/berth/containers/x", execIDs: ["e1"]))
        try sameDocument(Array(repeating: ContainerSummary(record, now: Timestamp(seconds: 100, nanoseconds: 0)), count: 3))
    }

    @Test func exactBytesForSimpleValues() throws {
        struct Row: Encodable { var Id: String; var Size: Int64; var Tags: [String]?; var Ratio: Double }
        let bytes = try StreamingJSONEncoder().encode([Row(Id: "a/b", Size: 3, Tags: nil, Ratio: 2), Row(Id: "c", Size: -1, Tags: ["x"], Ratio: 0.25)])
        #expect(String(decoding: bytes, as: UTF8.self) == #"[{"Id":"a/b","Size":3,"Ratio":2},{"Id":"c","Size":-1,"Tags":["x"],"Ratio":0.25}]"#)
    }

    @Test func nonFiniteNumbersAreRefused() {
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode([Double.nan]) }
    }
}
