import CBerthSys
import Glibc
import OCI
import Testing
@testable import Runtime

@Suite struct DeviceFilterTests {
    static let dockerRules: [RuntimeSpec.DeviceRule] = [
        .init(allow: false, access: "rwm"),
        .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        .init(allow: false, type: "c", major: 10, minor: 229, access: "rwm"),
    ]

    @Test func aDenyAllResetsTheDefault() throws {
        let filter = try DeviceFilter(Self.dockerRules, implicit: [])
        #expect(!filter.allowByDefault)
        #expect(filter.rules.count == 2)
        #expect(filter.rules.first == .init(allow: true, type: "c", major: 1, minor: 3, access: 7))
        let open = try DeviceFilter([.init(allow: true, type: "a", access: "rwm")], implicit: [])
        #expect(open.allowByDefault && open.rules.isEmpty)
        // Without a reset, everything not denied stays allowed, as with the v1 controller.
        #expect(try DeviceFilter([.init(allow: false, type: "b", major: 8, access: "r")], implicit: []).allowByDefault)
    }

    @Test func wildcardsAndNegativeNumbersMeanAny() throws {
        let filter = try DeviceFilter([.init(allow: true, type: "c", major: -1, minor: nil, access: "m")], implicit: [])
        #expect(filter.rules == [.init(allow: true, type: "c", major: nil, minor: nil, access: 1)])
    }

    @Test func unknownTypesAndAccessAreRefused() {
        #expect(throws: RuntimeError.self) { try DeviceFilter([.init(allow: true, type: "x", access: "r")], implicit: []) }
        #expect(throws: RuntimeError.self) { try DeviceFilter([.init(allow: true, type: "c", access: "rx")], implicit: []) }
    }

    @Test func theKernelVerifierAcceptsThePrograms() throws {
        for rules in [Self.dockerRules, [], [.init(allow: false, type: "b", major: 8, minor: 0, access: "w")]] {
            let program = try DeviceFilter(rules, implicit: CgroupResources.implicitDeviceRules).program
            #expect(program.count % 8 == 0)
            let fd = program.withUnsafeBytes { berth_bpf_load_device_program($0.baseAddress, UInt32(program.count / 8), nil, 0) }
            #expect(fd >= 0, "errno \(errno)")
            if fd >= 0 { close(fd) }
        }
    }
}
