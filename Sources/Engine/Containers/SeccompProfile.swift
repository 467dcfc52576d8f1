#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import OCI

/// A seccomp profile in docker's format (moby `profiles/seccomp`): the OCI fields plus
/// `archMap` and rules that apply only with some capabilities, architectures or kernels.
/// `--security-opt seccomp=FILE` sends this format; `resolved(…)` turns it into the OCI
/// `linux.seccomp` of one container, with moby's rules for `includes` and `excludes`.
public struct SeccompProfile: Codable, Sendable, Equatable {
    /// The action for a syscall no rule names (`SCMP_ACT_ERRNO` in docker's).
    public var defaultAction: String
    /// The errno of that action (docker's: 1, EPERM).
    public var defaultErrnoRet: UInt32?
    /// Architectures as OCI lists them; a profile has these or `archMap`, not both.
    public var architectures: [String]?
    /// Per native architecture, the sub-architectures the filter also covers.
    public var archMap: [ArchitectureGroup]?
    /// The rules, in order.
    public var syscalls: [Rule]?

    /// A native architecture (`SCMP_ARCH_X86_64`) with the ones its processes may also use.
    public struct ArchitectureGroup: Codable, Sendable, Equatable {
        public var architecture: String
        public var subArchitectures: [String]?
        public init(architecture: String, subArchitectures: [String]?) {
            self.architecture = architecture
            self.subArchitectures = subArchitectures
        }
    }

    /// One rule. `name` is the single-name form older profiles use.
    public struct Rule: Codable, Sendable, Equatable {
        public var name: String?
        public var names: [String]?
        public var action: String
        public var errnoRet: UInt32?
        public var args: [RuntimeSpec.SyscallArg]?
        public var includes: Filter?
        public var excludes: Filter?
        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [RuntimeSpec.SyscallArg]? = nil,
                    includes: Filter? = nil, excludes: Filter? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
            self.includes = includes
            self.excludes = excludes
        }
    }

    /// When a rule applies: every capability in `caps` is in the container's bounding set,
    /// the machine's architecture is one of `arches` (Go's names: amd64, arm64, …), and the
    /// kernel is at least `minKernel`.
    public struct Filter: Codable, Sendable, Equatable {
        public var caps: [String]?
        public var arches: [String]?
        public var minKernel: String?
        public init(caps: [String]? = nil, arches: [String]? = nil, minKernel: String? = nil) {
            self.caps = caps
            self.arches = arches
            self.minKernel = minKernel
        }
    }

    public init(defaultAction: String, defaultErrnoRet: UInt32?, architectures: [String]?, archMap: [ArchitectureGroup]?, syscalls: [Rule]?) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.archMap = archMap
        self.syscalls = syscalls
    }

    /// The machine a profile is resolved for.
    public struct Machine: Sendable, Equatable {
        /// libseccomp's name of the native architecture (`SCMP_ARCH_X86_64`).
        public var seccompArchitecture: String
        /// Go's name of it (`amd64`), which `includes.arches` use.
        public var goArchitecture: String
        /// The kernel's version as (major, minor).
        public var kernel: (Int, Int)

        public static func == (a: Machine, b: Machine) -> Bool {
            a.seccompArchitecture == b.seccompArchitecture && a.goArchitecture == b.goArchitecture && a.kernel == b.kernel
        }

        /// This machine, from uname(2).
        public static var current: Machine {
            var names = utsname()
            uname(&names)
            let machine = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let architectures: [String: (String, String)] = [
                "x86_64": ("SCMP_ARCH_X86_64", "amd64"), "aarch64": ("SCMP_ARCH_AARCH64", "arm64"),
                "i686": ("SCMP_ARCH_X86", "386"), "armv7l": ("SCMP_ARCH_ARM", "arm"),
                "s390x": ("SCMP_ARCH_S390X", "s390x"), "ppc64le": ("SCMP_ARCH_PPC64LE", "ppc64le"),
                "riscv64": ("SCMP_ARCH_RISCV64", "riscv64"),
            ]
            let (seccomp, go) = architectures[machine] ?? ("SCMP_ARCH_NATIVE", machine)
            return Machine(seccompArchitecture: seccomp, goArchitecture: go, kernel: SeccompProfile.version(release) ?? (0, 0))
        }
    }

    /// Decodes a profile sent as `seccomp=<JSON>`; the error names what is wrong.
    public static func decode(_ text: String) throws -> SeccompProfile {
        do {
            let profile = try JSONDecoder().decode(SeccompProfile.self, from: Data(text.utf8))
            try profile.validate()
            return profile
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.invalidParameter("decoding seccomp profile failed: \(error)")
        }
    }

    private func validate() throws {
        if !(architectures ?? []).isEmpty && !(archMap ?? []).isEmpty {
            throw EngineError.invalidParameter("decoding seccomp profile failed: both 'architectures' and 'archMap' are specified")
        }
        for rule in syscalls ?? [] {
            if rule.name != nil && !(rule.names ?? []).isEmpty {
                throw EngineError.invalidParameter("decoding seccomp profile failed: 'name' and 'names' were specified in one rule")
            }
            if rule.name == nil && (rule.names ?? []).isEmpty {
                throw EngineError.invalidParameter("decoding seccomp profile failed: a rule names no syscall")
            }
        }
    }

    /// The OCI profile for a container whose bounding set is `capabilities` on `machine`.
    public func resolved(capabilities: [String], machine: Machine = .current) -> RuntimeSpec.Seccomp {
        var architectures = self.architectures ?? []
        for group in archMap ?? [] where group.architecture == machine.seccompArchitecture {
            architectures.append(group.architecture)
            architectures += group.subArchitectures ?? []
        }
        let caps = Set(capabilities)
        var rules: [RuntimeSpec.SyscallRule] = []
        for rule in syscalls ?? [] {
            if let excludes = rule.excludes {
                if (excludes.arches ?? []).contains(machine.goArchitecture) { continue }
                if (excludes.caps ?? []).contains(where: caps.contains) { continue }
                if let minimum = excludes.minKernel.flatMap(SeccompProfile.version), machine.kernel >= minimum { continue }
            }
            if let includes = rule.includes {
                if let arches = includes.arches, !arches.isEmpty, !arches.contains(machine.goArchitecture) { continue }
                if !(includes.caps ?? []).allSatisfy(caps.contains) { continue }
                if let minimum = includes.minKernel.flatMap(SeccompProfile.version), machine.kernel < minimum { continue }
            }
            let names = rule.names ?? rule.name.map { [$0] } ?? []
            rules.append(.init(names: names, action: rule.action, errnoRet: rule.errnoRet, args: rule.args))
        }
        return RuntimeSpec.Seccomp(defaultAction: defaultAction, defaultErrnoRet: defaultErrnoRet,
                                   architectures: architectures.isEmpty ? nil : architectures, syscalls: rules)
    }

    /// `major.minor` of a kernel release such as `6.18.0-1-amd64`.
    static func version(_ release: String) -> (Int, Int)? {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }
}
