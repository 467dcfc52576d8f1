import BerthSystem
import Glibc
import NIOHTTP1

/// One request to the Engine API, with the version prefix taken off the path and the body
/// (if any) in memory or, for uploads, in a temporary file.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    /// The path without `/v1.xx` and without the query, e.g. `/containers/abc/json`.
    public var path: String
    /// The API version the client asked for (`1.41`), or nil for unversioned paths.
    public var version: APIVersion?
    public var query: [String: [String]]
    public var headers: HTTPHeaders
    public var body: RequestBody

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? { query[name]?.first }

    /// A boolean query parameter as docker reads it (`1`, `true`, `True`).
    public func flag(_ name: String) -> Bool {
        guard let value = query(name)?.lowercased() else { return false }
        return value == "1" || value == "true" || value == "yes"
    }

    /// An integer query parameter; nil when absent, a 400 naming the parameter when it is not
    /// a number or lies outside `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = query(name), !value.isEmpty else { return nil }
        guard let n = Int(value) else { throw APIError.badRequest("invalid value for \(name): \(value)") }
        guard range.contains(n) else {
            throw APIError.badRequest("invalid value for \(name): \(value) is out of range [\(range.lowerBound), \(range.upperBound)]")
        }
        return n
    }

    /// The range of a timeout in seconds (`t`): negative waits forever, as docker's does.
    public static let secondsRange = Int(Int32.min)...Int(Int32.max)
    /// The range of a terminal dimension (`h`, `w`).
    public static let terminalRange = 0...Int(UInt16.max)
}

/// A request body: small ones are kept in memory, uploads are spilled to a file.
public enum RequestBody: Sendable {
    case none
    case bytes([UInt8])
    case file(path: String)

    /// The body's bytes (reads a spilled file).
    public func allBytes() throws -> [UInt8] {
        switch self {
        case .none: return []
        case .bytes(let b): return b
        case .file(let path): return try FileSystem.readFile(path)
        }
    }

    /// Runs `work` with the path of a file holding the body: the spilled file itself, or for a
    /// body in memory a file written under `temporaryDirectory` and removed afterwards. nil when
    /// there is no body.
    public func withFile<T>(in temporaryDirectory: String, _ work: (String) async throws -> T) async throws -> T? {
        switch self {
        case .none:
            return nil
        case .file(let path):
            return try await work(path)
        case .bytes(let bytes):
            let path = "\(temporaryDirectory)/body-\(UInt64.random(in: 0...UInt64.max))"
            try FileSystem.writeAtomically(path, bytes: bytes, mode: 0o600)
            defer { unlink(path) }
            return try await work(path)
        }
    }

    /// Removes a spilled file.
    func discard() {
        if case .file(let path) = self { unlink(path) }
    }
}

/// An API version `major.minor`.
public struct APIVersion: Comparable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public static let current = APIVersion(major: 1, minor: 45)
    public static let minimum = APIVersion(major: 1, minor: 24)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}

/// Splits `/v1.41/containers/x/json?all=1` into version, path and query.
public enum RequestTarget {
    /// The version (without `v`), the path without it, and the percent-decoded query values by
    /// name. Never fails: what is not a version stays part of the path.
    public static func parse(_ uri: String) -> (version: String?, path: String, query: [String: [String]]) {
        let pieces = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(pieces[0])
        var version: String?
        if path.hasPrefix("/v"), let slash = path.dropFirst(2).firstIndex(of: "/") {
            let candidate = String(path[path.index(path.startIndex, offsetBy: 2)..<slash])
            if candidate.first?.isNumber == true {
                version = candidate
                path = String(path[slash...])
            }
        }
        var query: [String: [String]] = [:]
        if pieces.count > 1 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = percentDecode(String(kv[0]))
                let value = kv.count > 1 ? percentDecode(String(kv[1])) : ""
                query[key, default: []].append(value)
            }
        }
        return (version, percentDecode(path, plusIsSpace: false), query)
    }

    static func percentDecode(_ s: String, plusIsSpace: Bool = true) -> String {
        PercentEncoding.decode(s, plusIsSpace: plusIsSpace)
    }
}
