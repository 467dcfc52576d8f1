import CBerthSys
import Glibc
import OCI

/// The device rules of `linux.resources.devices` (config-linux.md "Allowed Device List") as
/// an eBPF program of type `BPF_PROG_TYPE_CGROUP_DEVICE`, the only way cgroup v2 controls
/// device access (the v1 `devices` controller has no v2 counterpart). Rules are read as the v1
/// controller reads them: in order, a later rule overriding an earlier one, a rule for all
/// devices with all access resetting the default, and everything allowed when no rule
/// matches and no such reset denied it.
struct DeviceFilter: Equatable {
    /// One rule: `type` is `a`, `b` or `c`; nil major/minor mean any.
    struct Rule: Equatable {
        var allow: Bool
        var type: Character
        var major: Int64?
        var minor: Int64?
        /// `BPF_DEVCG_ACC_*` bits: mknod 1, read 2, write 4.
        var access: Int32
    }

    /// What happens to a request no rule matches.
    let allowByDefault: Bool
    /// The rules after the last reset, in spec order (the program tests them last to first).
    let rules: [Rule]

    /// The filter for the spec's rules followed by `implicit` ones (runc's always-allowed
    /// devices). Throws for a type or access the spec does not define.
    init(_ specRules: [RuntimeSpec.DeviceRule], implicit: [RuntimeSpec.DeviceRule]) throws {
        var allowByDefault = true
        var rules: [Rule] = []
        for spec in specRules + implicit {
            let type = Character(spec.type ?? "a")
            guard type == "a" || type == "b" || type == "c" else {
                throw RuntimeError.invalidConfig("device rule type \"\(spec.type ?? "")\" is not a, b or c")
            }
            var access: Int32 = 0
            for letter in spec.access ?? "rwm" {
                switch letter {
                case "m": access |= 1
                case "r": access |= 2
                case "w": access |= 4
                default: throw RuntimeError.invalidConfig("device rule access \"\(spec.access ?? "")\" is not made of r, w and m")
                }
            }
            let major = spec.major.flatMap { $0 < 0 ? nil : $0 }
            let minor = spec.minor.flatMap { $0 < 0 ? nil : $0 }
            if type == "a" && major == nil && minor == nil && access == 7 {
                allowByDefault = spec.allow
                rules = []
                continue
            }
            rules.append(Rule(allow: spec.allow, type: type, major: major, minor: minor, access: access))
        }
        self.allowByDefault = allowByDefault
        self.rules = rules
    }

    /// The program's instructions (`struct bpf_insn`, 8 bytes each). Registers: r2 the
    /// device type, r3 the access asked for, r4 major, r5 minor (from `struct
    /// bpf_cgroup_dev_ctx`); r0 the verdict, 1 to allow.
    var program: [UInt8] {
        var code: [Instruction] = [
            .load(into: 2, offset: 0), .and(2, 0xffff),
            .load(into: 3, offset: 0), .shiftRight(3, 16),
            .load(into: 4, offset: 4), .load(into: 5, offset: 8),
        ]
        for rule in rules.reversed() {
            var block: [Instruction] = []
            var skips: [Int] = []
            if rule.type != "a" {
                skips.append(block.count)
                block.append(.jumpIfNotEqual(2, rule.type == "b" ? 1 : 2))
            }
            // An allow rule needs every bit asked for; a deny rule any of them.
            block.append(.move(1, from: 3))
            block.append(.and(1, rule.allow ? ~rule.access & 7 : rule.access))
            skips.append(block.count)
            block.append(rule.allow ? .jumpIfNotEqual(1, 0) : .jumpIfEqual(1, 0))
            if let major = rule.major {
                skips.append(block.count)
                block.append(.jumpIfNotEqual(4, Int32(truncatingIfNeeded: major)))
            }
            if let minor = rule.minor {
                skips.append(block.count)
                block.append(.jumpIfNotEqual(5, Int32(truncatingIfNeeded: minor)))
            }
            block.append(.moveImmediate(0, rule.allow ? 1 : 0))
            block.append(.exit)
            for index in skips { block[index].offset = Int16(block.count - index - 1) }
            code += block
        }
        code += [.moveImmediate(0, allowByDefault ? 1 : 0), .exit]
        return code.flatMap(\.bytes)
    }

    /// Loads the program and attaches it to the cgroup2 directory at `path`. The attachment
    /// lives as long as the cgroup; the program's descriptor is closed.
    func attach(to path: String) throws {
        let bytes = program
        let count = UInt32(bytes.count / 8)
        // Without a log first: the verifier fails a load whose log does not fit (ENOSPC).
        let programFD = bytes.withUnsafeBytes { berth_bpf_load_device_program($0.baseAddress, count, nil, 0) }
        guard programFD >= 0 else {
            let code = errno
            var log = [CChar](repeating: 0, count: 1 << 16)
            _ = bytes.withUnsafeBytes { berth_bpf_load_device_program($0.baseAddress, count, &log, UInt32(log.count)) }
            let reason = String(cString: log).split(separator: "\n").suffix(3).joined(separator: "; ")
            throw RuntimeError.system(operation: "load the device filter (eBPF)" + (reason.isEmpty ? "" : " [\(reason)]"), errno: code)
        }
        defer { close(programFD) }
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw RuntimeError.errno("open cgroup \(path)") }
        defer { close(directory) }
        try check(berth_bpf_attach_device_program(directory, programFD), "attach the device filter to \(path)")
    }
}

/// One eBPF instruction (`struct bpf_insn`, linux/bpf.h).
private struct Instruction {
    var opcode: UInt8
    var destination: UInt8
    var source: UInt8 = 0
    var offset: Int16 = 0
    var immediate: Int32 = 0

    /// dst = *(u32 *)(r1 + offset): BPF_LDX | BPF_MEM | BPF_W.
    static func load(into register: UInt8, offset: Int16) -> Instruction {
        Instruction(opcode: 0x61, destination: register, source: 1, offset: offset)
    }
    /// BPF_ALU64 | BPF_AND | BPF_K.
    static func and(_ register: UInt8, _ mask: Int32) -> Instruction { Instruction(opcode: 0x57, destination: register, immediate: mask) }
    /// BPF_ALU64 | BPF_RSH | BPF_K.
    static func shiftRight(_ register: UInt8, _ bits: Int32) -> Instruction { Instruction(opcode: 0x77, destination: register, immediate: bits) }
    /// BPF_ALU64 | BPF_MOV | BPF_X.
    static func move(_ register: UInt8, from source: UInt8) -> Instruction { Instruction(opcode: 0xbf, destination: register, source: source) }
    /// BPF_ALU64 | BPF_MOV | BPF_K.
    static func moveImmediate(_ register: UInt8, _ value: Int32) -> Instruction { Instruction(opcode: 0xb7, destination: register, immediate: value) }
    /// BPF_JMP | BPF_JNE | BPF_K; the offset is set once the block's length is known.
    static func jumpIfNotEqual(_ register: UInt8, _ value: Int32) -> Instruction { Instruction(opcode: 0x55, destination: register, immediate: value) }
    /// BPF_JMP | BPF_JEQ | BPF_K.
    static func jumpIfEqual(_ register: UInt8, _ value: Int32) -> Instruction { Instruction(opcode: 0x15, destination: register, immediate: value) }
    /// BPF_JMP | BPF_EXIT.
    static let exit = Instruction(opcode: 0x95, destination: 0)

    var bytes: [UInt8] {
        let offsetBits = UInt16(bitPattern: offset)
        let immediateBits = UInt32(bitPattern: immediate)
        return [opcode, (source << 4) | (destination & 0x0f), UInt8(offsetBits & 0xff), UInt8(offsetBits >> 8),
                UInt8(immediateBits & 0xff), UInt8((immediateBits >> 8) & 0xff), UInt8((immediateBits >> 16) & 0xff), UInt8(immediateBits >> 24)]
    }
}
