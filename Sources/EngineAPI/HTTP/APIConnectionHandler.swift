import NIOCore
import NIOHTTP1

/// Serves one client connection: collects each request, hands it to the router on a task,
/// writes the answer, and for attach/exec hands the socket over to a `HijackRelay`.
/// Requests on one connection are served one after another (docker clients do not pipeline).
final class APIConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    private let spillDirectory: String
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let encoder: HTTPResponseEncoder
    private var head: HTTPRequestHead?
    private var body: BodyCollector?

    init(router: Router, spillDirectory: String, decoder: ByteToMessageHandler<HTTPRequestDecoder>, encoder: HTTPResponseEncoder) {
        self.router = router
        self.spillDirectory = spillDirectory
        self.decoder = decoder
        self.encoder = encoder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = BodyCollector(spillDirectory: spillDirectory, limit: BodyCollector.limit(for: h))
        case .body(let buffer):
            body?.append(buffer)
            if case .tooLarge? = body?.failure { refuseOversizedBody(context: context) }
        case .end:
            guard let head, var collector = body else { return }
            self.head = nil
            self.body = nil
            let target = RequestTarget.parse(head.uri)
            let request = APIRequest(
                method: head.method, path: target.path, version: target.version.flatMap(APIVersion.init),
                query: target.query, headers: head.headers, body: collector.finish())
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let failure = collector.failure
            // Stop reading until this request is answered: nothing after it may be parsed as
            // HTTP before we know whether the connection is hijacked.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            Task {
                let response: APIResponse
                if let failure {
                    response = .json(failure.status, ["message": failure.message])
                } else {
                    response = await self.router.respond(to: request)
                }
                if case .hijack(let plan) = response {
                    channel.eventLoop.execute {
                        loopBound.value.hijack(channel: channel, plan: plan, version: request.version, hasUpgrade: request.headers["Upgrade"].first != nil)
                    }
                    return
                }
                await ResponseWriter(channel: channel).respond(response, keepAlive: keepAlive)
                request.body.discard()
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed, head == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// A connection closed in the middle of a body leaves no file or descriptor behind.
    func channelInactive(context: ChannelHandlerContext) {
        body?.abandon()
        body = nil
        head = nil
        context.fireChannelInactive()
    }

    /// Answers 413 as soon as a body passes its endpoint's limit, without reading the rest,
    /// and closes the connection.
    private func refuseOversizedBody(context: ChannelHandlerContext) {
        guard var collector = body, let failure = collector.failure else { return }
        collector.abandon()
        body = nil
        head = nil
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let channel = context.channel
        Task {
            await ResponseWriter(channel: channel).respond(.json(failure.status, ["message": failure.message]), keepAlive: false)
        }
    }

    /// Replaces the HTTP handlers with a raw relay and writes the upgrade (or, for clients that
    /// did not ask to upgrade, a 200 with no length) — as dockerd does.
    private func hijack(channel: Channel, plan: HijackPlan, version: APIVersion?, hasUpgrade: Bool) {
        let relay = HijackRelay(plan: plan)
        do {
            let ops = channel.pipeline.syncOperations
            try ops.addHandler(relay, position: .after(decoder))
            ops.removeHandler(encoder, promise: nil)
            ops.removeHandler(self, promise: nil)
            ops.removeHandler(decoder, promise: nil)
        } catch {
            channel.close(promise: nil)
            return
        }
        var header = hasUpgrade ? "HTTP/1.1 101 UPGRADED\r\n" : "HTTP/1.1 200 OK\r\n"
        header += "Content-Type: \(plan.contentType)\r\n"
        if hasUpgrade { header += "Connection: Upgrade\r\nUpgrade: tcp\r\n" }
        for (name, value) in ResponseWriter.standardHeaders() { header += "\(name): \(value)\r\n" }
        header += "\r\n"
        channel.writeAndFlush(ByteBuffer(string: header), promise: nil)
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        relay.begin(channel: channel)
    }
}
