import Glibc

#if FUZZING
/// libFuzzer's entry point: the target is chosen by `BERTH_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let name = getenv("BERTH_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if !FuzzTargets.run(name, bytes) {
        fputs("BERTH_FUZZ_TARGET must be one of \(FuzzTargets.names.joined(separator: ", "))\n", stderr)
        exit(2)
    }
    return 0
}
#else
/// Replays inputs through a target without libFuzzer: `berth-fuzz TARGET FILE…` (the saved
/// crashes under fuzz/regressions are replayed this way by the test suite).
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, FuzzTargets.names.contains(arguments[1]) else {
            fputs("usage: berth-fuzz {\(FuzzTargets.names.joined(separator: "|"))} FILE...\n", stderr)
            exit(2)
        }
        for path in arguments.dropFirst(2) {
            guard let file = fopen(path, "rb") else {
                fputs("berth-fuzz: cannot open \(path)\n", stderr)
                exit(1)
            }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n == 0 { break }
                bytes += buffer[0..<n]
            }
            fclose(file)
            _ = FuzzTargets.run(arguments[1], bytes)
        }
    }
}
#endif
