import Glibc
import OCI

/// Installs `linux.seccomp` (config-linux.md "Seccomp") through libseccomp, loaded with dlopen
/// only when a container has a profile, so containers without one pay nothing. Semantics follow
/// runc: unknown syscall names are skipped, rules whose action is the default are skipped, and
/// several conditions on one argument become separate rules (OR), as libseccomp cannot AND them.
struct Seccomp {
    fileprivate typealias InitFunction = @convention(c) (UInt32) -> OpaquePointer?
    fileprivate typealias ReleaseFunction = @convention(c) (OpaquePointer?) -> Void
    fileprivate typealias ResolveFunction = @convention(c) (UnsafePointer<CChar>) -> Int32
    fileprivate typealias ArchResolveFunction = @convention(c) (UnsafePointer<CChar>) -> UInt32
    fileprivate typealias ArchAddFunction = @convention(c) (OpaquePointer?, UInt32) -> Int32
    fileprivate typealias AttributeFunction = @convention(c) (OpaquePointer?, Int32, UInt32) -> Int32
    fileprivate typealias RuleFunction = @convention(c) (OpaquePointer?, UInt32, Int32, UInt32, UnsafeRawPointer?) -> Int32
    fileprivate typealias LoadFunction = @convention(c) (OpaquePointer?) -> Int32

    /// libseccomp's `struct scmp_arg_cmp` (same field order, so the same 24-byte layout).
    struct Comparison {
        var argument: UInt32
        var op: UInt32
        var a: UInt64
        var b: UInt64
    }

    private static let operators: [String: UInt32] = [
        "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
        "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7,
    ]
    private static let noNewPrivsAttribute: Int32 = 3

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
    static func comparisonGroups(_ args: [RuntimeSpec.SyscallArg]?) throws -> [[Comparison]] {
        let comparisons = try (args ?? []).map { arg -> Comparison in
            guard let op = operators[arg.op] else { throw RuntimeError.invalidConfig("unknown seccomp operator \"\(arg.op)\"") }
            return Comparison(argument: arg.index, op: op, a: arg.value, b: arg.valueTwo ?? 0)
        }
        let indexes = Set(comparisons.map(\.argument))
        return indexes.count == comparisons.count ? [comparisons] : comparisons.map { [$0] }
    }

    /// libseccomp's entry points, resolved with dlopen by the runtime before it forks, while the
    /// host's libraries are still reachable (the container's root has none of them).
    struct Library {
        fileprivate let initialize: InitFunction
        fileprivate let release: ReleaseFunction
        fileprivate let resolve: ResolveFunction
        fileprivate let archResolve: ArchResolveFunction
        fileprivate let archAdd: ArchAddFunction
        fileprivate let setAttribute: AttributeFunction
        fileprivate let addRule: RuleFunction
        fileprivate let load: LoadFunction

        init() throws {
            guard let library = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL) else {
                throw RuntimeError.unsupported("a seccomp profile without libseccomp.so.2 installed")
            }
            func symbol<T>(_ name: String, as type: T.Type) throws -> T {
                guard let pointer = dlsym(library, name) else { throw RuntimeError.unsupported("libseccomp without \(name)") }
                return unsafeBitCast(pointer, to: type)
            }
            initialize = try symbol("seccomp_init", as: InitFunction.self)
            release = try symbol("seccomp_release", as: ReleaseFunction.self)
            resolve = try symbol("seccomp_syscall_resolve_name", as: ResolveFunction.self)
            archResolve = try symbol("seccomp_arch_resolve_name", as: ArchResolveFunction.self)
            archAdd = try symbol("seccomp_arch_add", as: ArchAddFunction.self)
            setAttribute = try symbol("seccomp_attr_set", as: AttributeFunction.self)
            addRule = try symbol("seccomp_rule_add_array", as: RuleFunction.self)
            load = try symbol("seccomp_load", as: LoadFunction.self)
        }
    }

    let profile: RuntimeSpec.Seccomp
    let library: Library

    /// A filter for `profile`; nil when there is none. Loads libseccomp.
    init?(_ profile: RuntimeSpec.Seccomp?) throws {
        guard let profile else { return nil }
        self.profile = profile
        library = try Library()
    }

    /// Compiles the profile and installs it on the calling thread (inherited across execve).
    /// Without no_new_privs this needs CAP_SYS_ADMIN, so it must run before capabilities drop.
    func install() throws {
        let defaultAction = try Seccomp.action(profile.defaultAction, errnoRet: profile.defaultErrnoRet)
        guard let context = library.initialize(defaultAction) else { throw RuntimeError.errno("initialise the seccomp filter") }
        defer { library.release(context) }
        // no_new_privs is the spec's process.noNewPrivileges to decide, not libseccomp's.
        _ = library.setAttribute(context, Seccomp.noNewPrivsAttribute, 0)
        for architecture in profile.architectures ?? [] {
            let name = architecture.hasPrefix("SCMP_ARCH_") ? String(architecture.dropFirst(10)).lowercased() : architecture.lowercased()
            let token = name.withCString { library.archResolve($0) }
            guard token != 0 else { throw RuntimeError.invalidConfig("unknown seccomp architecture \"\(architecture)\"") }
            let result = library.archAdd(context, token)
            if result != 0 && result != -EEXIST { throw RuntimeError.system(operation: "add seccomp architecture \(architecture)", errno: -result) }
        }
        for rule in profile.syscalls ?? [] {
            let ruleAction = try Seccomp.action(rule.action, errnoRet: rule.errnoRet)
            if ruleAction == defaultAction { continue }
            let groups = try Seccomp.comparisonGroups(rule.args)
            for name in rule.names {
                let number = name.withCString { library.resolve($0) }
                if number < 0 { continue }
                for group in groups {
                    let result = group.withUnsafeBufferPointer {
                        library.addRule(context, ruleAction, number, UInt32($0.count), UnsafeRawPointer($0.baseAddress))
                    }
                    if result != 0 { throw RuntimeError.system(operation: "add seccomp rule for \(name)", errno: -result) }
                }
            }
        }
        let result = library.load(context)
        if result != 0 { throw RuntimeError.system(operation: "load the seccomp filter", errno: -result) }
    }
}
