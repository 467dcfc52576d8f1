import OCI

/// Image names as the CLI sends them: validated with OCI's reference grammar, normalized the way
/// docker's client normalizes them for each endpoint.
enum ImageName {
    /// Parses `text`, reporting docker's `invalid reference format` on failure.
    static func parse(_ text: String) throws -> Reference {
        do {
            return try Reference(parsing: text)
        } catch {
            throw CLIError.failed("invalid reference format: \(error)")
        }
    }

    /// The fully qualified repository (`docker.io/library/busybox`) and the tag (nil when the
    /// reference pins only a digest), as `commit` sends them.
    static func repositoryAndTag(_ text: String) throws -> (String, String?) {
        let reference = try parse(text)
        guard reference.digest == nil else {
            throw CLIError.failed("invalid reference format: a digest is not allowed here: \(text)")
        }
        return (reference.repository, reference.tag)
    }
}
