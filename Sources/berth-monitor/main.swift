import Glibc

// berth-monitor: the per-container (or per-exec) monitor. See docs/internals.md §2.

let report = StartReport()
do {
    let options = try MonitorOptions.parse(Array(CommandLine.arguments.dropFirst()))
    exit(Monitor(options: options, report: report).run())
} catch {
    Sys.writeBestEffort(2, "berth-monitor: \(error)\n")
    report.fail(error)
    exit(2)
}
