#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem

/// Loads and saves the image table at `<metadata>/images.json`.
struct ImageTableFile: Sendable {
    let path: String

    func load() throws -> ImageTable {
        guard FileSystem.exists(path) else { return ImageTable() }
        let bytes = try FileSystem.readFile(path)
        do {
            return try JSONDecoder().decode(ImageTable.self, from: Data(bytes))
        } catch {
            throw EngineError.failure("image table \(path) is unreadable: \(error)")
        }
    }

    func save(_ table: ImageTable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(path, bytes: Array(try encoder.encode(table)), mode: 0o600)
    }
}
