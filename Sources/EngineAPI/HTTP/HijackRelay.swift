import NIOCore
import NIOPosix

/// Splices a hijacked client connection to a monitor's attach socket: client bytes become the
/// container's stdin, the monitor's output (stdcopy frames, or raw bytes for a TTY — already
/// docker's wire format) is copied to the client verbatim.
/// A client half-close is passed on as a half-close; the monitor closing (the process ended)
/// closes the client after everything was flushed and the outcome recorded.
final class HijackRelay: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let plan: HijackPlan
    // Touched only on the client channel's event loop.
    private var pending: [ByteBuffer] = []
    private var clientInputClosed = false
    private var monitor: Channel?
    private var clientContext: ChannelHandlerContext?

    init(plan: HijackPlan) {
        self.plan = plan
    }

    func handlerAdded(context: ChannelHandlerContext) {
        clientContext = context
    }

    /// Connects to the monitor (waiting for the container to start if needed).
    func begin(channel client: Channel) {
        let plan = self.plan
        let loop = client.eventLoop
        let relay = NIOLoopBound(self, eventLoop: loop)
        Task {
            // Completed by the monitor side's answer, or below when connecting fails first (a
            // monitor that exited meanwhile has no socket any more): never left pending.
            let acknowledged = loop.makePromise(of: Void.self)
            do {
                if !plan.preamble.isEmpty {
                    // Sent apart from the response head: docker-py reads the head through a
                    // buffered reader and then the raw socket, so bytes that arrive with the
                    // head are lost to it.
                    try await Task.sleep(nanoseconds: 50_000_000)
                    try await client.writeAndFlush(ByteBuffer(bytes: plan.preamble)).get()
                }
                guard let (path, hello) = try await plan.connect() else {
                    acknowledged.succeed(())
                    await plan.finished()
                    client.writeAndFlush(ByteBuffer()).whenComplete { _ in client.close(promise: nil) }
                    return
                }
                let monitor = try await ClientBootstrap(group: loop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(MonitorSide(client: client, acknowledged: acknowledged))
                        }
                    }
                    .connect(unixDomainSocketPath: path).get()
                try await monitor.writeAndFlush(ByteBuffer(string: hello)).get()
                // The monitor answers `ok` once the client is registered; output kept for it
                // follows.
                try await acknowledged.futureResult.get()
                loop.execute { relay.value.attached(monitor) }
                try? await monitor.closeFuture.get()
                // Close the client only once the engine has recorded the outcome, so a client
                // that asks for the exit code right after end of stream gets it.
                await plan.finished()
                client.writeAndFlush(ByteBuffer()).whenComplete { _ in client.close(promise: nil) }
            } catch {
                acknowledged.fail(error)
                // A process that ended (with no output kept for us) before we connected: its
                // monitor is gone. Its outcome is still recorded before the client learns the
                // stream ended, so an exec's exit code asked for next is the real one.
                await plan.finished()
                client.close(promise: nil)
            }
        }
    }

    private func attached(_ channel: Channel) {
        monitor = channel
        for buffer in pending { channel.write(buffer, promise: nil) }
        pending = []
        channel.flush()
        if clientInputClosed { channel.close(mode: .output, promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let monitor { monitor.writeAndFlush(buffer, promise: nil) } else { pending.append(buffer) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            clientInputClosed = true
            monitor?.close(mode: .output, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        monitor?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// The monitor's end of the splice: waits for the monitor's `ok` line, then forwards output to
/// the client.
private final class MonitorSide: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let client: Channel
    private let acknowledged: EventLoopPromise<Void>
    private var answer: [UInt8] = []
    private var isAcknowledged = false

    init(client: Channel, acknowledged: EventLoopPromise<Void>) {
        self.client = client
        self.acknowledged = acknowledged
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if !isAcknowledged {
            while let byte = buffer.readInteger(as: UInt8.self) {
                if byte != 0x0a { answer.append(byte); continue }
                guard answer == Array("ok".utf8) else {
                    acknowledged.fail(MonitorRefused(answer: String(decoding: answer, as: UTF8.self)))
                    context.close(promise: nil)
                    return
                }
                isAcknowledged = true
                acknowledged.succeed()
                break
            }
            guard isAcknowledged, buffer.readableBytes > 0 else { return }
        }
        client.writeAndFlush(buffer, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !isAcknowledged { acknowledged.fail(MonitorRefused(answer: "connection closed")) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// The monitor did not accept an attach request.
struct MonitorRefused: Error {
    let answer: String
}
