import Testing
@testable import Runtime

@Suite struct SyncChannelTests {
    /// A child that fails after the parent already sent `go` closes its end with `go` unread;
    /// the kernel then reports ECONNRESET before the child's queued error. The error must win.
    @Test func anErrorSentBeforeClosingWithUnreadGoIsReceived() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close() }
        parent.send(.go)
        child.send(.error("mount /proc: not a directory"))
        child.close()
        #expect(parent.receive() == .error("mount /proc: not a directory"))
        #expect(parent.receive() == .closed)
    }

    @Test func aPeerThatClosesWithoutAWordReadsAsClosed() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close() }
        parent.send(.go)
        child.close()
        #expect(parent.receive() == .closed)
    }
}
