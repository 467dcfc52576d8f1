#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem

/// Reads and writes container records under `containers/<id>/container.json`, atomically.
struct ContainerStoreFile: Sendable {
    let root: String

    func directory(of id: String) -> String { root + "/" + id }

    /// Replaces the record atomically; `durable` also waits until it is on disk (a record that
    /// only has to survive the daemon's death, not the machine's, need not).
    func save(_ record: ContainerRecord, durable: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(directory(of: record.id) + "/container.json", bytes: Array(encoder.encode(record)), mode: 0o600,
                                       durable: durable)
    }

    /// All records that can be read; unreadable ones are reported, not fatal.
    func loadAll() -> (records: [ContainerRecord], problems: [String]) {
        var records: [ContainerRecord] = []
        var problems: [String] = []
        for id in FileSystem.listDirectory(root) where id.count == 64 {
            let path = directory(of: id) + "/container.json"
            guard FileSystem.exists(path) else { continue }
            do {
                records.append(try JSONDecoder().decode(ContainerRecord.self, from: Data(FileSystem.readFile(path))))
            } catch {
                problems.append("container \(id): record unreadable: \(error)")
            }
        }
        return (records, problems)
    }
}
