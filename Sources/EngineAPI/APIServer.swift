import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Engine API on a Unix socket that only root can open (mode 0600).
public final class APIServer: Sendable {
    private let router: Router
    private let socketPath: String
    private let spillDirectory: String
    private let group: MultiThreadedEventLoopGroup

    public init(router: Router, socketPath: String, spillDirectory: String, threads: Int = 1) {
        self.router = router
        self.socketPath = socketPath
        self.spillDirectory = spillDirectory
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// Binds the socket (replacing a stale one) and serves until the channel closes.
    public func run() async throws {
        unlink(socketPath)
        let router = self.router
        let spill = self.spillDirectory
        let previousMask = umask(0o177)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
                    let encoder = HTTPResponseEncoder()
                    let ops = channel.pipeline.syncOperations
                    try ops.addHandler(encoder)
                    try ops.addHandler(decoder)
                    try ops.addHandler(APIConnectionHandler(router: router, spillDirectory: spill, decoder: decoder, encoder: encoder))
                }
            }
            .bind(unixDomainSocketPath: socketPath).get()
        umask(previousMask)
        chmod(socketPath, 0o600)
        try await channel.closeFuture.get()
    }
}
