import AirlockTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS

/// Delivers one callback to the lab's endpoint over a fresh connection (callbacks are rare; no pool is kept).
///
/// `https` targets are verified against the route's trust roots exactly like vendors are; nothing is written before
/// the handshake (and so the certificate check) has completed. The whole exchange is bounded by `timeout`.
/// Failures are the vendor exchange's ``UpstreamError`` cases, so outcome records share one label vocabulary.
enum CallbackDelivery {
    /// Sends `head` and `body` to `target` and succeeds with the lab's response head, or fails with an
    /// ``UpstreamError`` that says why there is none.
    /// The lab's response body is read (up to `maxResponseBytes`) and discarded: it never goes back to the vendor.
    static func deliver(
        head: HTTPRequestHead,
        body: ByteBuffer,
        to target: CallbackTarget,
        tls: TLSClientContext?,
        timeout: TimeAmount,
        maxResponseBytes: Int,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<HTTPResponseHead> {
        self.exchange(
            head: head,
            body: body,
            host: target.host,
            connectTo: nil,
            port: target.port,
            tls: tls,
            timeout: timeout,
            maxResponseBytes: maxResponseBytes,
            keepsBody: false,
            on: eventLoop
        ).map(\.head)
    }

    /// One request over a fresh connection to `host` (or, when given, to the address `connectTo` it was resolved
    /// to; `host` is then still the TLS server name checked), answered with the response head and, with `keepsBody`,
    /// its body (up to `maxResponseBytes`). Redirects are answers like any other: nothing is followed.
    static func exchange(
        head: HTTPRequestHead,
        body: ByteBuffer,
        host: String,
        connectTo address: SocketAddress?,
        port: Int,
        tls: TLSClientContext?,
        timeout: TimeAmount,
        maxResponseBytes: Int,
        keepsBody: Bool,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<(head: HTTPResponseHead, body: ByteBuffer)> {
        let promise = eventLoop.makePromise(of: (head: HTTPResponseHead, body: ByteBuffer).self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(tls.makeHandler(serverHostname: host))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(
                        ExchangeHandler(
                            request: (head, body),
                            waitsForHandshake: tls != nil,
                            maxResponseBytes: maxResponseBytes,
                            keepsBody: keepsBody,
                            promise: promise
                        )
                    )
                }
            }
        let timer = eventLoop.scheduleTask(in: timeout) { promise.fail(UpstreamError.timeout) }
        let connected = address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: host, port: port)
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                promise.fail(UpstreamError.connectFailed(error))
            }
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }

    /// Writes the request once the connection is ready and completes the promise with the response head once the
    /// response has been read completely.
    fileprivate final class ExchangeHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        private let request: (HTTPRequestHead, ByteBuffer)
        private let waitsForHandshake: Bool
        private let maxResponseBytes: Int
        private let keepsBody: Bool
        private let promise: EventLoopPromise<(head: HTTPResponseHead, body: ByteBuffer)>
        private var sent = false
        private var response: HTTPResponseHead?
        private var body = ByteBuffer()
        private var received = 0
        private var failure: UpstreamError?
        private var completed = false

        init(
            request: (HTTPRequestHead, ByteBuffer),
            waitsForHandshake: Bool,
            maxResponseBytes: Int,
            keepsBody: Bool,
            promise: EventLoopPromise<(head: HTTPResponseHead, body: ByteBuffer)>
        ) {
            self.request = request
            self.waitsForHandshake = waitsForHandshake
            self.maxResponseBytes = maxResponseBytes
            self.keepsBody = keepsBody
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            if !self.waitsForHandshake { self.send(context: context) }
            context.fireChannelActive()
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if !self.waitsForHandshake && context.channel.isActive { self.send(context: context) }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { self.send(context: context) }
            context.fireUserInboundEventTriggered(event)
        }

        private func send(context: ChannelHandlerContext) {
            guard !self.sent else { return }
            self.sent = true
            context.write(self.wrapOutboundOut(.head(self.request.0)), promise: nil)
            if self.request.1.readableBytes > 0 {
                context.write(self.wrapOutboundOut(.body(.byteBuffer(self.request.1))), promise: nil)
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                if head.status.code >= 100 && head.status.code < 200 { return }
                self.response = head
            case .body(var part):
                self.received += part.readableBytes
                if self.received > self.maxResponseBytes {
                    self.failure = .responseTooLarge(limit: self.maxResponseBytes)
                    context.close(promise: nil)
                } else if self.keepsBody {
                    self.body.writeBuffer(&part)
                }
            case .end:
                if let response = self.response, self.failure == nil, !self.completed {
                    self.completed = true
                    self.promise.succeed((response, self.body))
                }
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if self.failure == nil {
                if let tls = error as? TLSError {
                    self.failure = .tls(tls)
                } else if error is HTTPParserError {
                    self.failure = .badResponse
                } else {
                    self.failure = .connectFailed(error)
                }
            }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !self.completed {
                self.completed = true
                let closed = UpstreamError.closedBeforeResponse(
                    reusedConnection: false,
                    receivedResponseBytes: self.response != nil
                )
                self.promise.fail(self.failure ?? closed)
            }
            context.fireChannelInactive()
        }
    }
}

@available(*, unavailable)
extension CallbackDelivery.ExchangeHandler: Sendable {}
