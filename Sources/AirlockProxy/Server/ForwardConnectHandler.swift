import AirlockTLS
import NIOCore
import NIOHTTP1

/// The first request on a forward-listener connection: a `CONNECT host:443` with `Proxy-Authorization`. Admitted
/// (see ``ConnectAdmission``), it is answered 200 and the connection becomes an intercepted tunnel
/// (``ForwardRuntime/intercept(after:leaf:tunnel:loop:)``); anything else is answered with the refusal, counted
/// (metrics and the refusal aggregator of the audit log), and the connection closed. Nothing reaches a vendor from
/// here: vendors are only ever reached by the requests inside the tunnel, through ``ProxyHTTPHandler``.
final class ForwardConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHead
        /// The head is judged; the decision is carried out at its end.
        case awaitingEnd(ConnectAdmission.Decision)
        /// Answered: nothing more is read here.
        case answered
    }

    private let forward: ForwardRuntime
    private let loop: LoopContext
    private var state = State.awaitingHead
    private var deadline: Scheduled<Void>?

    init(forward: ForwardRuntime, loop: LoopContext) {
        self.forward = forward
        self.loop = loop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.forward.core.metrics.clientConnections.increment()
        self.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.forward.connectDeadline) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.forward.core.metrics.clientConnections.decrement()
        self.deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (self.state, self.unwrapInboundIn(data)) {
        case (.awaitingHead, .head(let head)):
            self.state = .awaitingEnd(self.forward.decide(head))
        case (.awaitingEnd(let decision), .end):
            self.state = .answered
            self.carryOut(decision, context: context)
        case (.awaitingEnd, .body), (.awaitingHead, .body), (.awaitingHead, .end), (.awaitingEnd, .head),
            (.answered, _):
            break
        }
    }

    /// Shutdown: a connection still waiting for its CONNECT closes now (one that became a tunnel is quiesced by its
    /// ProxyHTTPHandler).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, case .awaitingHead = self.state {
            self.state = .answered
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError, case .awaitingHead = self.state else {
            context.close(promise: nil)
            return
        }
        self.state = .answered
        self.refuse(.badRequest("the request is not valid HTTP/1.1"), vendorIndex: nil, client: nil, context: context)
    }

    private func carryOut(_ decision: ConnectAdmission.Decision, context: ChannelHandlerContext) {
        switch decision {
        case .refuse(let cause, let vendorIndex, let client):
            self.refuse(cause, vendorIndex: vendorIndex, client: client, context: context)
        case .intercept(let vendorIndex, let host, let client):
            let leaf: InterceptionCertificates.Leaf
            do {
                leaf = try self.forward.leaf(for: host)
            } catch {
                self.forward.core.logger.error(
                    "no certificate could be minted for an intercepted host",
                    metadata: ["airlock.vendor": "\(self.forward.core.vendors[vendorIndex].configuration.name)"]
                )
                self.refuse(.interceptionFailed, vendorIndex: vendorIndex, client: client, context: context)
                return
            }
            self.deadline?.cancel()
            self.forward.metrics.countConnect(result: "intercepted")
            context.writeAndFlush(
                self.wrapOutboundOut(
                    context.channel.allocator.buffer(staticString: "HTTP/1.1 200 Connection established\r\n\r\n")
                ),
                promise: nil
            )
            let tunnel = ProxyHTTPHandler.Tunnel(
                vendor: self.forward.core.vendors[vendorIndex],
                host: host,
                clientIndex: client
            )
            do {
                try self.forward.intercept(after: context, leaf: leaf, tunnel: tunnel, loop: self.loop)
            } catch {
                context.close(promise: nil)
            }
        }
    }

    /// Answers `cause` with `Connection: close` (a 407 with the challenge), counts it, and closes once written.
    private func refuse(_ cause: RefusalCause, vendorIndex: Int?, client: Int?, context: ChannelHandlerContext) {
        let refusal = EgressRefusal(cause)
        let core = self.forward.core
        self.forward.metrics.countConnect(result: refusal.code)
        self.loop.metrics.countRequest(vendorIndex: vendorIndex ?? core.vendors.count, status: Int(refusal.status.code))
        if case .proxyAuthenticationRequired = cause {
            core.clientMetrics?.count(client: nil, vendorIndex: core.vendors.count, result: .unauthenticated)
        }
        if !core.recorder.isPassThrough {
            var sender = EgressClient(address: context.channel.remoteAddress?.ipAddress)
            sender.name = client.flatMap { core.clients?.clients[$0].name }
            core.refusals.count(
                refusal,
                vendor: vendorIndex.map { core.vendors[$0].configuration.name },
                method: .CONNECT,
                path: EgressDecisionRecord.withheldPath,
                client: sender,
                direction: .egress
            )
        }
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        if case .proxyAuthenticationRequired = cause {
            headers.add(name: "Proxy-Authenticate", value: ProxyAuthorization.challenge)
        }
        let message = ResponseSerializer.serialize(
            status: refusal.status,
            headers: headers,
            body: ErrorResponse.body(refusal, allocator: context.channel.allocator),
            connectionClose: true,
            allocator: context.channel.allocator
        )
        context.writeAndFlush(self.wrapOutboundOut(message)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ForwardConnectHandler: Sendable {}
