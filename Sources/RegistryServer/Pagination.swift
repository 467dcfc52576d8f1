import BerthSystem
/// The `n`/`last` pagination of tag lists and the catalog (distribution spec "Listing Tags"):
/// names in lexical order after `last`, at most `n` of them, and whether more follow.
struct Pagination: Equatable, Sendable {
    /// At most this many entries (nil: all).
    var limit: Int?
    /// Only entries sorting after this one.
    var last: String?

    /// The largest page served whatever `n` asks for.
    static let maximumLimit = 10_000

    init(limit: Int?, last: String?) {
        self.limit = limit
        self.last = last
    }

    /// Reads `n` and `last` from a query; throws `unsupported` (400) for an `n` that is not a
    /// non-negative integer.
    init(query: [String: String]) throws {
        if let n = query["n"] {
            guard let value = Int(n), value >= 0 else {
                throw RegistryServerError.unsupported(reason: "n=\(n) is not a non-negative integer", status: .badRequest)
            }
            limit = min(value, Pagination.maximumLimit)
        } else {
            limit = nil
        }
        last = query["last"]
    }

    /// The page of `names` (sorted here) and whether entries remain after it.
    func page(_ names: [String]) -> (entries: [String], more: Bool) {
        var sorted = names.sorted()
        if let last { sorted = sorted.filter { $0 > last } }
        guard let limit, sorted.count > limit else { return (sorted, false) }
        return (Array(sorted.prefix(limit)), limit > 0)
    }

    /// The `Link` header for the page after `entries` at `path`, as the spec shows it:
    /// `</v2/<name>/tags/list?n=<n>&last=<last>>; rel="next"`.
    func link(path: String, after entries: [String]) -> String? {
        guard let limit, let final = entries.last else { return nil }
        return "<\(path)?n=\(limit)&last=\(PercentEncoding.encode(final))>; rel=\"next\""
    }
}
