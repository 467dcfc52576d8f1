import BerthSystem
import Builder
import OCI

/// Applies docker's `--change` instructions (`import -c`, `commit -c`) to an image's container
/// defaults: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK
/// and ONBUILD in Dockerfile syntax (read by the Dockerfile parser, applied as a build applies
/// them); anything else, or a malformed instruction, is an `invalidParameter` error that names
/// it.
public enum ConfigChanges {
    public static func apply(_ changes: [String], to defaults: ContainerDefaults) throws -> ContainerDefaults {
        var result = defaults
        var instructions = ConfigInstructions()
        for change in changes where !change.trimmed.isEmpty {
            do {
                let instruction = try Instruction(parsing: change.trimmed, line: 1)
                var env: [String: String] = [:]
                for entry in result.Env ?? [] {
                    let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    env[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                }
                guard try instructions.apply(instruction, to: &result, env: env) != nil else {
                    throw EngineError.invalidParameter("\(instruction.keyword) is not a valid change command")
                }
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError.invalidParameter("invalid change \"\(change)\": \(error)")
            }
        }
        return result
    }
}
