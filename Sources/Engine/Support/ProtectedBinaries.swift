import BerthSystem
import CBerthSys
import Glibc

/// The copies of `berth-monitor` and `berth-runtime` that containers can come near, on a
/// read-only bind mount (`<root>/bin`). A process that enters a container (the runtime's
/// init and exec children, the monitor's in-process runtime) has one of these as
/// `/proc/self/exe`; a container that reaches that link (CVE-2019-5736: a command of
/// `/proc/self/exe`, or a reopened descriptor of it once the binary exits) can only read it —
/// writing fails with EROFS, whatever the container's capabilities — so the host's binaries
/// cannot be replaced. runc ≥ 1.2 protects itself the same way (a read-only mount of a copy).
enum ProtectedBinaries {
    /// Copies each binary into `directory` (replacing the copies of an earlier daemon, which
    /// running monitors keep open) and mounts `directory` read-only onto itself. Returns the
    /// path of each copy, by the same keys.
    static func install(_ binaries: [String: String], into directory: String) throws -> [String: String] {
        // A previous daemon's read-only mount: detached, so its running monitors keep their
        // files, and the directory beneath is writable again.
        while umount2(directory, Int32(MNT_DETACH)) == 0 {}
        try FileSystem.makeDirectories(directory, mode: 0o755)
        var copies: [String: String] = [:]
        for (key, source) in binaries.sorted(by: { $0.key < $1.key }) {
            let name = String(source.split(separator: "/").last ?? Substring(key))
            let target = directory + "/" + name
            do {
                try FileSystem.copyFile(from: source, to: target, mode: 0o755)
            } catch {
                throw EngineError.failure("cannot copy \(source) to \(target): \(error)")
            }
            copies[key] = target
        }
        guard mount(directory, directory, nil, UInt(MS_BIND), nil) == 0 else {
            throw EngineError.failure("cannot bind \(directory) onto itself: \(String(cString: strerror(errno)))")
        }
        let readOnly = UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV)
        guard mount(nil, directory, nil, readOnly, nil) == 0 else {
            let code = errno
            umount2(directory, Int32(MNT_DETACH))
            throw EngineError.failure("cannot make \(directory) read-only: \(String(cString: strerror(code)))")
        }
        // A daemon stopped by SIGTERM or SIGINT leaves no mount behind (after kill -9 the next
        // start detaches it); running monitors keep their files either way.
        _ = berth_detach_on_termination(directory)
        return copies
    }
}
