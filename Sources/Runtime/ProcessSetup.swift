import BerthSystem
import CBerthSys
import Glibc
import OCI

/// The last steps before `execve` shared by a container's init and `exec`: rlimits,
/// no_new_privs, user and groups, capabilities, working directory, descriptors, and the
/// executable's lookup in the container's `PATH`.
struct ProcessSetup {
    let process: RuntimeSpec.Process
    /// How many descriptors from 3 up the caller passes on deliberately (`--preserve-fds`).
    var preservedDescriptors = 0
    /// The container's compiled seccomp filter, installed by `lockDown()`.
    var seccomp: SeccompFilter?

    private static let rlimitNumbers: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]
    private static let prSetKeepCaps: Int32 = 8
    private static let prSetNoNewPrivs: Int32 = 38
    private static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Sets each `process.rlimits` entry explicitly (soft and hard).
    func applyRlimits() throws {
        for limit in process.rlimits ?? [] {
            guard let number = ProcessSetup.rlimitNumbers[limit.type] else {
                throw RuntimeError.invalidConfig("unknown rlimit type \"\(limit.type)\"")
            }
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            if setrlimit(__rlimit_resource_t(number), &value) != 0 {
                throw RuntimeError.errno("set \(limit.type) to \(limit.soft)/\(limit.hard)")
            }
        }
    }

    /// Marks every descriptor above stderr close-on-exec, so only 0–2 and the preserved ones
    /// reach the process (a leaked host descriptor is an escape, CVE-2024-21626).
    func closeInheritedDescriptors() throws {
        let first = 3 + UInt32(max(0, preservedDescriptors))
        try check(berth_close_range(first, UInt32.max, 1), "mark inherited descriptors close-on-exec")
        for fd in 3..<Int32(first) where fcntl(fd, F_SETFD, 0) != 0 {
            throw RuntimeError.errno("pass descriptor \(fd) to the container (--preserve-fds)")
        }
    }

    /// Drops the bounding set, switches to `process.user` (always calling setgroups, with an
    /// empty list when there are no additional groups), enters `cwd` and sets the other
    /// capability sets. When a seccomp filter is still to be installed without no_new_privs,
    /// CAP_SYS_ADMIN stays effective until `lockDown()`, which the kernel needs for it.
    func becomeUser() throws {
        let capabilities = try CapabilitySets(process.capabilities)
        try capabilities.dropBoundingSet()
        try check(berth_prctl(ProcessSetup.prSetKeepCaps, 1, 0, 0, 0), "keep capabilities across the user switch")
        let groups = (process.user.additionalGids ?? []).map { gid_t($0) }
        try check(groups.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) }, "set additional groups \(groups)")
        try check(setgid(process.user.gid), "set group ID \(process.user.gid)")
        try check(setuid(process.user.uid), "set user ID \(process.user.uid)")
        try check(berth_prctl(ProcessSetup.prSetKeepCaps, 0, 0, 0, 0), "clear keep-capabilities")
        try enterWorkingDirectory()
        if seccomp != nil && process.noNewPrivileges != true {
            try capabilities.retaining(CapabilitySets.sysAdmin).apply()
        } else {
            try capabilities.apply()
        }
        umask(mode_t(process.user.umask ?? 0o022))
    }

    /// The last steps before `execve`: no_new_privs and the seccomp filter. With no_new_privs
    /// the filter is the very last system call; without it, only the final `capset` (and the
    /// ambient `prctl`s) that give up CAP_SYS_ADMIN follow it, so a profile has to allow
    /// nothing the runtime does but those and `execve` (runc needs far more after its filter).
    func lockDown() throws {
        if process.noNewPrivileges == true {
            try check(berth_prctl(ProcessSetup.prSetNoNewPrivs, 1, 0, 0, 0), "set no_new_privs")
            try seccomp?.install()
        } else if let seccomp {
            try seccomp.install()
            try CapabilitySets(process.capabilities).apply()
        }
    }

    /// chdir to `cwd` and checks the result lies inside the container's root.
    private func enterWorkingDirectory() throws {
        let cwd = process.cwd.isEmpty ? "/" : process.cwd
        guard cwd.hasPrefix("/") else {
            throw RuntimeError.invalidConfig("process.cwd \"\(cwd)\" must be an absolute path")
        }
        try check(chdir(cwd), "change to working directory \(cwd)")
        guard let current = getcwd(nil, 0) else { throw RuntimeError.errno("read working directory") }
        defer { free(current) }
        // getcwd reports "(unreachable)…" for a directory outside the process's root.
        guard current.pointee == UInt8(ascii: "/") else {
            throw RuntimeError.invalidConfig("working directory \(cwd) is outside the container")
        }
    }

    /// The environment, with HOME from the container's /etc/passwd (or `/`) when unset.
    var environment: [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + ProcessSetup.home(of: process.user.uid))
        }
        return env
    }

    private static func home(of uid: UInt32) -> String {
        // The image's file: never block on a FIFO or read a device planted there.
        guard let bytes = try? FileSystem.readRegularFile("/etc/passwd", inRoot: "/", limit: 4 << 20) else { return "/" }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid, !fields[5].isEmpty { return String(fields[5]) }
        }
        return "/"
    }

    /// The path `execve` will run: `args[0]` itself when it contains a slash, else the first
    /// executable regular file of that name in the process's `PATH`; never the runtime's own
    /// binary (see `ExecutableGuard`).
    func resolveExecutable() throws -> String {
        guard let name = process.args.first, !name.isEmpty else {
            throw RuntimeError.invalidConfig("process.args is empty")
        }
        let path = try lookUp(name)
        try ExecutableGuard()?.check(path, name: name)
        return path
    }

    private func lookUp(_ name: String) throws -> String {
        if name.contains("/") {
            var st = stat()
            guard stat(name, &st) == 0 else { throw RuntimeError.executableNotFound(name) }
            guard (st.st_mode & S_IFMT) == S_IFREG, faccessat(AT_FDCWD, name, X_OK, AT_EACCESS) == 0 else {
                throw RuntimeError.notExecutable(name)
            }
            return name
        }
        let pathVariable = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ProcessSetup.defaultPath
        for directory in pathVariable.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
               faccessat(AT_FDCWD, candidate, X_OK, AT_EACCESS) == 0 {
                return candidate
            }
        }
        throw RuntimeError.executableNotFound(name)
    }

    /// The command ready for `execve`: its strings copied to C memory now, so that nothing
    /// between the seccomp filter and `execve` allocates.
    func command(at path: String) -> PreparedCommand {
        PreparedCommand(path: Array(path.utf8CString), arguments: process.args.map { strdup($0) } + [nil],
                        environment: environment.map { strdup($0) } + [nil], name: process.args.first ?? path)
    }
}

/// An `execve` call with its arguments already in C memory.
struct PreparedCommand {
    let path: [CChar]
    let arguments: [UnsafeMutablePointer<CChar>?]
    let environment: [UnsafeMutablePointer<CChar>?]
    /// The command as the user named it, for error messages.
    let name: String

    /// Replaces the process image. Returns only on failure, with the error.
    func exec() -> RuntimeError {
        // Arrays passed as pointers are not copied.
        _ = execve(path, arguments, environment)
        let code = errno
        if code == ENOENT { return .executableNotFound(name) }
        if code == EACCES { return .notExecutable(name) }
        return .system(operation: "exec \(name)", errno: code)
    }
}
