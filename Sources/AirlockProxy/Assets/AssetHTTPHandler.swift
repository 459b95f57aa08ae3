import NIOCore
import NIOHTTP1

/// One vendor connection to the asset listener: each complete request is handed to the ``AssetGateway`` and its
/// answer written back (NIO's pipelining handler keeps answers in request order). Request bodies are ignored: only
/// `GET` is served.
final class AssetHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let gateway: AssetGateway
    private var head: HTTPRequestHead?

    init(gateway: AssetGateway) {
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let requester = context.channel.remoteAddress?.ipAddress
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            self.gateway.handle(method: head.method, uri: head.uri, requester: requester, on: context.eventLoop)
                .whenSuccess { answer in
                    let (handler, context) = loopBound.value
                    handler.write(answer, keepAlive: keepAlive, version: head.version, context: context)
                }
        }
    }

    private func write(
        _ answer: AssetGateway.Answer,
        keepAlive: Bool,
        version: HTTPVersion,
        context: ChannelHandlerContext
    ) {
        var headers = answer.headers
        headers.replaceOrAdd(name: "Content-Length", value: "\(answer.body.readableBytes)")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: answer.status, headers: headers))),
            promise: nil
        )
        context.write(self.wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension AssetHTTPHandler: Sendable {}
