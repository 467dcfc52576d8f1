import ArgumentParser
import Glibc

/// `berth history`: the layers of an image, newest first.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image")

    @Flag(name: .shortAndLong, help: "Only show image IDs")
    var quiet = false

    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false

    @Argument(help: "The image")
    var image: String

    func run() throws {
        let items = try Berth.client().decode([HistoryItem].self, "GET", "/images/\(Query.escapePath(image))/history")
        if quiet {
            try Console.out(items.map { (noTrunc ? $0.id ?? "" : Text.shortID($0.id ?? "")) + "\n" }.joined())
            return
        }
        let now = Int64(time(nil))
        var table = Table(header: ListFormat.historyHeader)
        for item in items { table.append(ListFormat.historyRow(item, now: now, truncate: !noTrunc)) }
        try Console.out(table.rendered)
    }
}
