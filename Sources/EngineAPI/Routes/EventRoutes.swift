import BerthSystem
import Engine
import NIOHTTP1

/// `GET /events`: past events from `since`, then live ones until `until` (or until the client
/// leaves), newline-delimited JSON in docker's shape, filtered by `type`, `event`, `container`,
/// `image`, `volume`, `label`, `daemon`, `network` and `scope`.
struct EventRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        let bus = engine.events
        let daemonID = engine.daemonID
        router.add(.GET, "/events") { request, _ in
            let filters = try ListFilters(request.query("filters"))
            if let unknown = filters.unsupportedKeys(["type", "event", "container", "image", "volume", "label", "daemon", "network", "scope", "config", "node", "plugin", "secret", "service"]).first {
                throw APIError.badRequest("invalid filter '\(unknown)'")
            }
            let now = Timestamp.now()
            let since = try Self.time(request.query("since"), name: "since", now: now)
            let until = try Self.time(request.query("until"), name: "until", now: now)
            if let since, let until, until < since {
                throw APIError.badRequest("`since` time (\(since.seconds)) cannot be after `until` time (\(until.seconds))")
            }
            let subscription = bus.subscribe(since: since)
            return .stream(.ok, contentType: "application/json") { writer in
                defer { subscription.cancel() }
                let deadline = until
                if let deadline, deadline <= now {
                    for event in subscription.past where event.time <= deadline && Self.matches(event, filters, daemonID: daemonID) {
                        try await writer.writeJSON(EventBody(event))
                    }
                    return
                }
                for event in subscription.past where Self.matches(event, filters, daemonID: daemonID) {
                    try await writer.writeJSON(EventBody(event))
                }
                if let deadline {
                    let wait = UInt64(max(0, (deadline.seconds - now.seconds) * 1_000_000_000 + (deadline.nanoseconds - now.nanoseconds)))
                    Task {
                        try? await Task.sleep(nanoseconds: wait)
                        subscription.cancel()
                    }
                }
                for await event in subscription.events {
                    if let deadline, event.time > deadline { break }
                    guard Self.matches(event, filters, daemonID: daemonID) else { continue }
                    try await writer.writeJSON(EventBody(event))
                }
            }
        }
    }

    /// `since`/`until` as docker sends them: Unix seconds with an optional fraction.
    static func time(_ value: String?, name: String, now: Timestamp) throws -> Timestamp? {
        guard let value, !value.isEmpty else { return nil }
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else { throw APIError.badRequest("invalid value for \(name): \(value)") }
        var nanoseconds: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard !digits.isEmpty, let fraction = Int64(digits), digits.allSatisfy(\.isNumber) else {
                throw APIError.badRequest("invalid value for \(name): \(value)")
            }
            nanoseconds = fraction
            for _ in digits.count..<9 { nanoseconds *= 10 }
        }
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// docker's event filters: every key given must match; within a key any value may.
    static func matches(_ event: EngineEvent, _ filters: ListFilters, daemonID: String) -> Bool {
        func check(_ key: String, _ test: (String) -> Bool) -> Bool {
            guard let wanted = filters.values(key), !wanted.isEmpty else { return true }
            return wanted.contains(where: test)
        }
        let name = event.attributes["name"]
        func actor(_ value: String) -> Bool { value == event.actorID || value == name || (!value.isEmpty && event.actorID.hasPrefix(value)) }
        return check("type") { $0 == event.type.rawValue }
            && check("event") { $0 == event.action || $0 == event.baseAction }
            && check("container") { event.type == .container && actor($0) }
            && check("image") { value in
                switch event.type {
                case .container: return event.attributes["image"] == value
                case .image: return actor(value)
                default: return false
                }
            }
            && check("volume") { event.type == .volume && actor($0) }
            && check("network") { event.type == .network && actor($0) }
            && check("daemon") { event.type == .daemon && ($0 == daemonID || $0 == name) }
            && check("label") { ListFilters.label($0, in: event.attributes) }
            && check("scope") { $0 == "local" }
            && ["config", "node", "plugin", "secret", "service"].allSatisfy { filters.values($0)?.isEmpty ?? true }
    }
}

/// One event on the wire; `status`, `id` and `from` (docker's older fields) only for
/// container and image events, as dockerd sends them.
struct EventBody: Encodable {
    struct ActorBody: Encodable {
        var ID: String
        var Attributes: [String: String]
    }

    var status: String?
    var id: String?
    var from: String?
    var `Type`: String
    var Action: String
    var Actor: ActorBody
    var scope = "local"
    var time: Int64
    var timeNano: Int64

    init(_ event: EngineEvent) {
        if event.type == .container || event.type == .image {
            status = event.action
            id = event.actorID
            from = event.attributes["image"]
        }
        Type = event.type.rawValue
        Action = event.action
        Actor = ActorBody(ID: event.actorID, Attributes: event.attributes)
        time = event.time.seconds
        timeNano = event.time.seconds * 1_000_000_000 + event.time.nanoseconds
    }
}
