/// The version Berth reports in `version`, `info` and the `Server` header.
public enum BerthVersion {
    public static let version = "0.1.0"
}
