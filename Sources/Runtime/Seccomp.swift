import BerthSystem
import CBerthSys
import FoundationEssentials
import Glibc
import CSeccomp
import OCI

/// A seccomp profile (`linux.seccomp`, config-linux.md "Seccomp") compiled to classic BPF,
/// ready to install in a forked child without allocating or calling libseccomp. Semantics
/// follow runc: unknown syscall names are skipped, rules whose action is the default are
/// skipped, and several conditions on one argument become separate rules (OR), as libseccomp
/// cannot AND them.
public struct SeccompFilter: Sendable {
    /// The `struct sock_filter` array, 8 bytes per instruction.
    let program: [UInt8]

    /// Installs the filter on the calling thread; it is inherited across `execve`. Needs
    /// no_new_privs or CAP_SYS_ADMIN. Makes exactly one system call.
    func install() throws {
        let count = UInt16(program.count / 8)
        let result = program.withUnsafeBytes { berth_seccomp_install($0.baseAddress, count) }
        if result != 0 { throw RuntimeError.errno("load the seccomp filter") }
    }
}

/// Compiles seccomp profiles with libseccomp and keeps each compiled filter in a cache
/// directory, so a profile every container shares (docker's default) is compiled once: later
/// containers read the filter back instead of building it rule by rule. A cache entry holds the
/// canonical key of its profile (every field, length-prefixed) and is used only when that matches byte for byte, so the
/// file name's hash only has to spread entries, not resist collisions.
public struct SeccompCompiler {
    /// Where compiled filters are kept (created on first use, mode 0700).
    let cacheDirectory: String

    /// The compiled filter for a bundle's profile: the raw JSON when the bundle kept it
    /// undecoded (the cache is keyed by that text, and it is decoded only to compile), else
    /// the decoded profile; nil when there is none.
    func filter(for bundle: Bundle) throws -> SeccompFilter? {
        guard let raw = bundle.seccompJSON else { return try filter(for: bundle.spec.linux?.seccomp) }
        let key = Array("json:".utf8) + raw
        let path = cacheDirectory + "/" + SeccompCompiler.hexHash(key) + ".bpf"
        if let cached = SeccompCompiler.readEntry(path, key: key) { return cached }
        let profile: RuntimeSpec.Seccomp
        do {
            profile = try JSONDecoder().decode(RuntimeSpec.Seccomp.self, from: Data(raw))
        } catch {
            throw RuntimeError.invalidBundle(path: bundle.path + "/config.json", reason: "linux.seccomp: \(error)")
        }
        return try compileAndKeep(profile, key: key, path: path)
    }

    /// The compiled filter for `profile`; nil when there is none.
    func filter(for profile: RuntimeSpec.Seccomp?) throws -> SeccompFilter? {
        guard let profile else { return nil }
        let key = SeccompCompiler.canonicalKey(profile)
        let path = cacheDirectory + "/" + SeccompCompiler.hexHash(key) + ".bpf"
        if let cached = SeccompCompiler.readEntry(path, key: key) { return cached }
        return try compileAndKeep(profile, key: key, path: path)
    }

    private func compileAndKeep(_ profile: RuntimeSpec.Seccomp, key: [UInt8], path: String) throws -> SeccompFilter {
        let filter = try SeccompCompiler.compile(profile)
        var entry = SeccompCompiler.lengthPrefix(key.count) + key
        entry += filter.program
        // A cache that cannot be written costs speed only.
        if (try? FileSystem.makeDirectories(cacheDirectory, mode: 0o700)) != nil {
            try? FileSystem.writeAtomically(path, bytes: entry, mode: 0o600, durable: false)
        }
        return filter
    }

    /// Every field of the profile, each string prefixed by its length, so two profiles have
    /// the same key only when they are the same (much cheaper than encoding JSON: the key is
    /// computed at every container start).
    static func canonicalKey(_ profile: RuntimeSpec.Seccomp) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(8192)
        func add(_ text: String) {
            key += Array(String(text.utf8.count).utf8) + [0x3a] + Array(text.utf8)
        }
        func add(_ number: UInt64?) { add(number.map { String($0) } ?? "-") }
        add(profile.defaultAction)
        add(profile.defaultErrnoRet.map(UInt64.init))
        add(UInt64((profile.architectures ?? []).count))
        (profile.architectures ?? []).forEach { add($0) }
        add(UInt64((profile.syscalls ?? []).count))
        for rule in profile.syscalls ?? [] {
            add(rule.action)
            add(rule.errnoRet.map(UInt64.init))
            add(UInt64(rule.names.count))
            rule.names.forEach { add($0) }
            add(UInt64((rule.args ?? []).count))
            for arg in rule.args ?? [] {
                add(UInt64(arg.index))
                add(arg.value)
                add(arg.valueTwo)
                add(arg.op)
            }
        }
        return key
    }

    /// FNV-1a, 64 bits, as 16 hex digits.
    static func hexHash(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func lengthPrefix(_ count: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(count) >> (8 * UInt64($0))) }
    }

    private static func readEntry(_ path: String, key: [UInt8]) -> SeccompFilter? {
        guard let bytes = try? FileSystem.readFile(path), bytes.count > 8 else { return nil }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard length == UInt64(key.count), bytes.count > 8 + key.count,
              bytes[8..<(8 + key.count)].elementsEqual(key) else { return nil }
        let program = Array(bytes[(8 + key.count)...])
        guard program.count % 8 == 0, program.count / 8 <= 4096 else { return nil }
        return SeccompFilter(program: program)
    }

    private static let operators: [String: scmp_compare] = [
        "SCMP_CMP_NE": SCMP_CMP_NE, "SCMP_CMP_LT": SCMP_CMP_LT, "SCMP_CMP_LE": SCMP_CMP_LE,
        "SCMP_CMP_EQ": SCMP_CMP_EQ, "SCMP_CMP_GE": SCMP_CMP_GE, "SCMP_CMP_GT": SCMP_CMP_GT,
        "SCMP_CMP_MASKED_EQ": SCMP_CMP_MASKED_EQ,
    ]

    /// The libseccomp action value for an OCI action name.
    static func action(_ name: String, errnoRet: UInt32?) throws -> UInt32 {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        default: throw RuntimeError.unsupported("seccomp action \(name)")
        }
    }

    /// The libseccomp comparisons for a rule's `args`, grouped into the rules to add: one rule
    /// with every condition, or one per condition when an argument index repeats.
    static func comparisonGroups(_ args: [RuntimeSpec.SyscallArg]?) throws -> [[scmp_arg_cmp]] {
        let comparisons = try (args ?? []).map { arg -> scmp_arg_cmp in
            guard let op = operators[arg.op] else { throw RuntimeError.invalidConfig("unknown seccomp operator \"\(arg.op)\"") }
            return scmp_arg_cmp(arg: arg.index, op: op, datum_a: arg.value, datum_b: arg.valueTwo ?? 0)
        }
        let indexes = Set(comparisons.map(\.arg))
        return indexes.count == comparisons.count ? [comparisons] : comparisons.map { [$0] }
    }

    /// Builds the filter with libseccomp and exports its BPF; a profile libseccomp cannot take
    /// (an unknown action, operator or architecture) is a `RuntimeError` naming it.
    public static func compile(_ profile: RuntimeSpec.Seccomp) throws -> SeccompFilter {
        let defaultAction = try action(profile.defaultAction, errnoRet: profile.defaultErrnoRet)
        guard let context = seccomp_init(defaultAction) else { throw RuntimeError.errno("initialise the seccomp filter") }
        defer { seccomp_release(context) }
        // no_new_privs is the spec's process.noNewPrivileges to decide, not libseccomp's.
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)
        // A binary tree over syscall numbers instead of a list: a syscall runs through ~10
        // comparisons instead of up to ~400, and the kernel's attach-time pass, which runs the
        // filter once per syscall number to cache constant answers, shrinks with it (measured:
        // benchmarks/RESULTS.md).
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        for architecture in profile.architectures ?? [] {
            let name = architecture.hasPrefix("SCMP_ARCH_") ? String(architecture.dropFirst(10)).lowercased() : architecture.lowercased()
            let token = seccomp_arch_resolve_name(name)
            guard token != 0 else { throw RuntimeError.invalidConfig("unknown seccomp architecture \"\(architecture)\"") }
            let result = seccomp_arch_add(context, token)
            if result != 0 && result != -EEXIST { throw RuntimeError.system(operation: "add seccomp architecture \(architecture)", errno: -result) }
        }
        for rule in profile.syscalls ?? [] {
            let ruleAction = try action(rule.action, errnoRet: rule.errnoRet)
            if ruleAction == defaultAction { continue }
            let groups = try comparisonGroups(rule.args)
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number < 0 { continue }
                for group in groups {
                    let result = group.withUnsafeBufferPointer {
                        seccomp_rule_add_array(context, ruleAction, number, UInt32($0.count), $0.baseAddress)
                    }
                    if result != 0 { throw RuntimeError.system(operation: "add seccomp rule for \(name)", errno: -result) }
                }
            }
        }
        let memory = berth_memfd("seccomp", 0)
        guard memory >= 0 else { throw RuntimeError.errno("create a buffer for the seccomp filter") }
        defer { close(memory) }
        let result = seccomp_export_bpf(context, memory)
        if result != 0 { throw RuntimeError.system(operation: "compile the seccomp filter", errno: -result) }
        guard lseek(memory, 0, SEEK_SET) == 0 else { throw RuntimeError.errno("read the compiled seccomp filter") }
        let program: [UInt8]
        do {
            program = try FileSystem.readAll(memory)
        } catch {
            throw RuntimeError.errno("read the compiled seccomp filter")
        }
        guard !program.isEmpty, program.count % 8 == 0 else {
            throw RuntimeError.invalidConfig("libseccomp produced a filter of \(program.count) bytes")
        }
        return SeccompFilter(program: program)
    }
}
