/// Durations in words, exactly as docker prints them (`go-units.HumanDuration`): used for
/// `CREATED` columns ("About a minute ago") and the like.
public enum HumanDuration {
    /// `seconds` as "Less than a second", "1 second", "5 seconds", "About a minute",
    /// "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "3 months", "2 years".
    public static func describe(seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 1 { return "Less than a second" }
        if whole == 1 { return "1 second" }
        if whole < 60 { return "\(whole) seconds" }
        let minutes = Int(seconds / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((seconds / 3600).rounded())
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(seconds / 3600) / 24 / 365) years"
    }

    /// "<duration> ago" for a Unix time `created`, relative to `now`.
    public static func ago(created: Int64, now: Int64) -> String {
        describe(seconds: Double(now - created)) + " ago"
    }
}
