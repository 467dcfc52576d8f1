#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Engine

/// docker's `filters` query parameter: a JSON map from a key to the values wanted, sent either
/// as `{"key":{"value":true}}` (the CLI) or `{"key":["value"]}` (docker-py). Within one key any
/// value may match; all keys must match.
public struct ListFilters {
    private var byKey: [String: [String]] = [:]

    /// The filters of `json`; nil or empty means none. A malformed value is a 400 naming it.
    public init(_ json: String?) throws {
        guard let json, !json.isEmpty else { return }
        let data = Data(json.utf8)
        if let map = try? JSONDecoder().decode([String: [String: Bool]].self, from: data) {
            byKey = map.mapValues { $0.filter(\.value).map(\.key) }
        } else if let map = try? JSONDecoder().decode([String: [String]].self, from: data) {
            byKey = map
        } else {
            throw APIError.badRequest("invalid filter: \(json)")
        }
    }

    /// The values asked for under `key`, or nil when the key is not filtered on.
    func values(_ key: String) -> [String]? { byKey[key] }

    /// Whether a container passes the `status`, `name`, `id`, `label` and `ancestor` filters.
    /// Unknown keys are refused, as docker does.
    func matches(_ record: ContainerRecord) -> Bool {
        for (key, wanted) in byKey where !wanted.isEmpty {
            let ok: Bool
            switch key {
            case "status": ok = wanted.contains(record.state.word)
            case "health":
                let status = HealthSchedule(record.spec.healthcheck) == nil ? "none" : (record.state.health ?? .starting).status.rawValue
                ok = wanted.contains(status)
            case "name": ok = wanted.contains { record.name.contains($0.hasPrefix("/") ? String($0.dropFirst()) : $0) }
            case "id": ok = wanted.contains { record.id.hasPrefix($0) }
            case "ancestor": ok = wanted.contains { $0 == record.imageName || record.image.description.hasPrefix($0) || record.image.encoded.hasPrefix($0) }
            case "label": ok = wanted.allSatisfy { Self.label($0, in: record.spec.labels) }
            case "exited": ok = record.state.status == .exited && wanted.contains(String(record.state.exitCode))
            case "volume": ok = wanted.contains { v in record.mounts.contains { $0.name == v || $0.destination == v } }
            case "before", "since": ok = true
            default: ok = false
            }
            if !ok { return false }
        }
        return true
    }

    /// Whether `labels` has the filter's `key` (any value) or `key=value`.
    static func label(_ filter: String, in labels: [String: String]) -> Bool {
        let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let value = labels[parts[0]] else { return false }
        return parts.count == 1 || value == parts[1]
    }

    /// An instant as docker's `until`/`since` filters take it: Unix seconds (with a fraction),
    /// an RFC 3339 time, or a Go duration counted back from now (`24h`).
    static func instant(_ value: String, key: String) throws -> Timestamp {
        if let seconds = Double(value) { return Timestamp(seconds: Int64(seconds), nanoseconds: Int64((seconds - seconds.rounded(.down)) * 1e9)) }
        if let time = Timestamp(rfc3339: value) { return time }
        if let ago = GoDuration.nanoseconds(value) {
            let now = Timestamp.now()
            let at = now.seconds * 1_000_000_000 + now.nanoseconds - ago
            return Timestamp(seconds: at / 1_000_000_000, nanoseconds: at % 1_000_000_000)
        }
        throw APIError.badRequest("invalid filter '\(key)=\(value)'")
    }

    /// A boolean filter value as docker takes it (`true`/`false`/`1`/`0`); 400 otherwise.
    static func boolean(_ value: String, key: String) throws -> Bool {
        switch value.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.badRequest("invalid filter '\(key)=\(value)'")
        }
    }

    /// Keys this engine does not filter on (to report them as docker does).
    func unsupportedKeys(_ supported: Set<String>) -> [String] {
        byKey.keys.filter { !supported.contains($0) }.sorted()
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
