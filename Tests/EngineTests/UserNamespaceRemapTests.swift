import Testing
@testable import Engine
import OCI

@Suite struct UserNamespaceRemapTests {
    static let subuid = Array("""
        alice:100000:65536
        dockremap:165536:65536
        1001:300000:1000
        dockremap:400000:10
        broken:x:1
        zero:500000:0
        """.utf8)

    @Test func rangesAreFoundByNameOrNumericID() {
        #expect(UserNamespaceRemap.ranges(of: "dockremap", id: 999, in: Self.subuid).map(\.start) == [165536, 400000])
        #expect(UserNamespaceRemap.ranges(of: "bob", id: 1001, in: Self.subuid).map(\.count) == [1000])
        #expect(UserNamespaceRemap.ranges(of: "broken", id: 5, in: Self.subuid).isEmpty)
        #expect(UserNamespaceRemap.ranges(of: "zero", id: 6, in: Self.subuid).isEmpty)
    }

    @Test func rangesAreMappedOneAfterAnotherFromZero() {
        let mapping = UserNamespaceRemap.mapping([(400000, 10), (165536, 65536)])
        #expect(mapping == [.init(containerID: 0, hostID: 165536, size: 65536), .init(containerID: 65536, hostID: 400000, size: 10)])
    }

    @Test func aFreeRangeOverlapsNoExistingOne() {
        #expect(UserNamespaceRemap.freeRange(size: 65536, in: []) == 100000)
        #expect(UserNamespaceRemap.freeRange(size: 65536, in: Self.subuid) == 231072)
        #expect(UserNamespaceRemap.freeRange(size: 65536, in: Array("x:200000:10\n".utf8)) == 100000)
        #expect(UserNamespaceRemap.freeRange(size: 65536, in: Array("x:150000:10\n".utf8)) == 150010)
    }

    @Test func idMapTranslatesBothWaysAndOverflowsOutsideItsRanges() {
        let map = IDMap(uids: UserNamespaceRemap.mapping([(165536, 65536), (400000, 10)]),
                        gids: [.init(containerID: 0, hostID: 200000, size: 100)])
        #expect(map.hostRootUID == 165536)
        #expect(map.hostRootGID == 200000)
        #expect(map.containerUID(ofHost: 165536 + 1000) == 1000)
        #expect(map.containerUID(ofHost: 400009) == 65545)
        #expect(map.containerUID(ofHost: 0) == IDMap.overflowID)
        #expect(map.containerGID(ofHost: 200100) == IDMap.overflowID)
        #expect(map.highestContainerGID == 99)
        #expect(map.uidMapText == "0 165536 65536\n65536 400000 10\n")
    }
}
