import AirlockTLS
import Logging
import NIOCore
import NIOHTTP1

/// Serves one lab connection: executes what its ``ConnectionStateMachine`` decides, admits each request
/// (``RequestAdmission``), hands complete ones to an ``EgressExchange`` (or the callback service) and writes the
/// answers (``ResponseSerializer``).
///
/// Sits right after the TLS handler, the request deadlines, the idle timer and NIO's request decoder; there is no
/// NIO pipelining handler in front: the state machine queues pipelined requests itself and hands them over one at a
/// time. Everything runs on the channel's event loop.
final class ProxyHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    /// Each answer is serialised into one buffer (head and body together): one write and one TLS record.
    typealias OutboundOut = ByteBuffer

    /// A request being received.
    struct Incoming {
        var vendor: VendorRuntime
        var head: HTTPRequestHead
        var path: Substring
        var query: Substring?
        var body: ByteBuffer
        /// Set for a vendor's callback to a route of `callbacks:`; handled by the callback service.
        var callback: CallbackService.Route? = nil
    }

    let core: ProxyCore
    private let loop: LoopContext
    var machine: ConnectionStateMachine
    private var context: ChannelHandlerContext?
    private let connectionID: UInt64
    /// The admitted request whose body is being received.
    var incoming: Incoming?
    /// The exchange in progress, told when the lab goes away.
    private var exchange: EgressExchange?
    /// The id of the request whose response is written next (nil when no seam needed one).
    private var responseRequestID: String?
    private var requestCounter: UInt32 = 0
    private var lingerTimer: Scheduled<Void>?
    /// The last response write, kept only while a close waits for it.
    private var lastWrite: EventLoopFuture<Void>?
    private var isDraining = false
    /// With `clients:`: the index of the request's client (one request at a time per connection).
    var clientIndex: Int?
    private var clientName: String? {
        self.clientIndex.flatMap { self.core.clients?.clients[$0].name }
    }
    /// The connection's head and body deadlines, told about each part as it arrives.
    private var deadlines: RequestDeadlineHandler?
    /// The method of the request being handled, for the record of an early refusal.
    var requestMethod: HTTPMethod?
    /// The access log line of the request being handled.
    var access = AccessLogEntry()
    /// In a forward-proxy tunnel: its vendor, host and client (see ProxyHTTPHandler+Tunnel); nil on a listener.
    let tunnel: Tunnel?

    init(core: ProxyCore, loop: LoopContext, tunnel: Tunnel? = nil) {
        self.core = core
        self.loop = loop
        self.tunnel = tunnel
        self.machine = ConnectionStateMachine(maxBodyBytes: core.maxBodyBytes)
        self.connectionID = loop.makeConnectionID()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.core.metrics.clientConnections.increment()
        self.deadlines = try? context.pipeline.syncOperations.handler(type: RequestDeadlineHandler.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.exchange?.abandoned = true
        self.exchange = nil
        self.lingerTimer?.cancel()
        self.core.metrics.clientConnections.decrement()
    }

    // MARK: Events in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        guard self.machine.isReading else { return }
        self.deadlines?.observe(part)
        self.execute(self.machine.read(part), context: context)
        self.drainQueued()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            self.execute(self.machine.quiesce(), context: context)
        } else if let timeout = event as? RequestTimeout {
            self.requestTimedOut(timeout, context: context)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // A silent client (or one trickling nothing) does not get to hold a connection forever.
            self.execute(self.machine.readIdle(), context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.machine.channelInactive()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError else {
            if !(error is TLSError) {
                self.core.logger.debug("lab connection error", metadata: ["airlock.error": "\(type(of: error))"])
            }
            self.execute(self.machine.failed(), context: context)
            return
        }
        let action = self.machine.parseFailed()
        guard action == .refuseMalformed else {
            if action == .none {
                self.core.logger.debug(
                    "malformed request pipelined behind one being answered; closing after that answer",
                    metadata: ["airlock.conn": "\(String(self.connectionID, radix: 16))"]
                )
            }
            self.execute(action, context: context)
            return
        }
        // Malformed framing (e.g. Content-Length with Transfer-Encoding, bad chunk sizes): refuse and close.
        self.incoming = nil
        self.answer(
            .refusal(EgressRefusal(.badRequest("the request is not valid HTTP/1.1 (\(error))"))),
            vendorIndex: nil
        )
    }

    // MARK: Actions out

    private func execute(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none, .drop:
            break
        case .admit(let head):
            self.admit(head, context: context)
        case .appendBody(var part):
            self.incoming?.body.writeBuffer(&part)
        case .refuseBodyTooLarge:
            guard let incoming = self.incoming.take() else { return }
            self.refuseEarly(
                EgressRefusal(.bodyTooLarge(limit: self.core.maxBodyBytes)),
                vendorIndex: incoming.vendor.index,
                callback: incoming.callback != nil,
                keepAlive: false,
                record: (incoming.head, Self.auditPath(incoming.path, callback: incoming.callback))
            )
        case .process:
            guard let incoming = self.incoming.take() else { return }
            self.process(incoming)
        case .startLingering:
            self.startLingering()
        case .close:
            context.close(promise: nil)
        case .closeAfterWrites:
            self.closeAfterWrites()
        case .refuseMalformed, .refuseTimedOut, .write:
            preconditionFailure("\(action) is executed where the answer is at hand")
        }
    }

    /// Hands queued parts to the state machine until one of them starts a request that must be answered first.
    private func drainQueued() {
        guard !self.isDraining, let context = self.context else { return }
        self.isDraining = true
        defer { self.isDraining = false }
        while let part = self.machine.nextQueued() {
            self.execute(self.machine.handle(part), context: context)
        }
    }

    // MARK: Clients

    lazy var peerIdentity: TLSPeerIdentity? = {
        guard let context = self.context else { return nil }
        return try? context.pipeline.syncOperations.handler(type: TLSHandler.self).peerIdentity
    }()

    private lazy var connectionClient: EgressClient = {
        guard let context = self.context else { return EgressClient(address: nil) }
        let identity = self.peerIdentity
        return EgressClient(
            address: context.channel.remoteAddress?.ipAddress,
            certificateCommonName: identity?.commonName,
            certificateNames: identity?.subjectAlternativeNames ?? []
        )
    }()

    /// The sender of the request being handled: the connection's peer and, with `clients:`, the named client.
    var client: EgressClient {
        var client = self.connectionClient
        client.name = self.clientName
        return client
    }

    // MARK: Early refusals and timeouts

    /// The path an early refusal records. No policy has seen it, so only a callback's path (the configured one) is
    /// recorded as it is; a vendor path is withheld.
    static func auditPath(_ path: Substring, callback: CallbackService.Route?) -> String {
        callback == nil ? EgressDecisionRecord.withheldPath : String(path)
    }

    /// Answers before the body has been read (nothing is ever forwarded); the state machine skips the rest of it.
    /// `callback`: the request was routed to a vendor's callback (recorded as inbound, as is everything refused on
    /// the callback listener).
    func refuseEarly(
        _ refusal: EgressRefusal,
        vendorIndex: Int?,
        callback: Bool,
        keepAlive: Bool,
        record: (head: HTTPRequestHead, path: String)? = nil
    ) {
        let early = self.machine.refusedEarly(keepAlive: keepAlive)
        if early.startLingering { self.startLingering() }
        self.countRefusal(
            refusal,
            vendorIndex: vendorIndex,
            method: record?.head.method ?? self.requestMethod,
            path: record?.path,
            callback: callback
        )
        self.write(refusal: refusal, vendorIndex: vendorIndex, keepAlive: early.keepAlive, closeNow: false)
    }

    /// Counts a refusal made before any policy saw the request; the aggregator records it (at most one record per
    /// kind and client a second) without holding up the answer.
    private func countRefusal(
        _ refusal: EgressRefusal,
        vendorIndex: Int?,
        method: HTTPMethod?,
        path: String?,
        callback: Bool
    ) {
        guard !self.core.recorder.isPassThrough else { return }
        self.core.refusals.count(
            refusal,
            vendor: vendorIndex.map { self.core.vendors[$0].configuration.name },
            method: method,
            path: path ?? EgressDecisionRecord.withheldPath,
            client: self.client,
            direction: callback || !self.core.servesVendorRoutes ? .inbound : .egress
        )
    }

    /// A request's head or body did not arrive in time (``RequestDeadlineHandler``): 408 and close when no other
    /// answer is due first.
    private func requestTimedOut(_ timeout: RequestTimeout, context: ChannelHandlerContext) {
        let action = self.machine.requestTimedOut()
        guard action == .refuseTimedOut else {
            self.execute(action, context: context)
            return
        }
        let incoming = self.incoming.take()
        let refusal = EgressRefusal(timeout.cause)
        self.countRefusal(
            refusal,
            vendorIndex: incoming?.vendor.index,
            method: incoming?.head.method,
            path: nil,
            callback: incoming?.callback != nil
        )
        self.write(refusal: refusal, vendorIndex: incoming?.vendor.index, keepAlive: false, closeNow: true)
    }

    private func closeAfterWrites() {
        guard let context = self.context else { return }
        if let pending = self.lastWrite {
            pending.assumeIsolated().whenComplete { _ in self.context?.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    /// After refusing with `Connection: close`, keep reading (and dropping) what the client still sends for a short
    /// while, so its TCP stack does not reset the connection before it has read our answer.
    private func startLingering() {
        guard let context = self.context, self.lingerTimer == nil else { return }
        self.lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) {
            guard let context = self.context else { return }
            self.execute(self.machine.lingerEnded(), context: context)
        }
    }

    // MARK: Complete requests

    /// A new id for the request being handled; the response to it carries it as `Airlock-Request-Id`.
    private func nextRequestID() -> String {
        self.requestCounter &+= 1
        let id = String(self.connectionID, radix: 16) + "-" + String(self.requestCounter, radix: 16)
        self.responseRequestID = id
        return id
    }

    private func process(_ incoming: Incoming) {
        self.core.metrics.labToAirlockBytes[incoming.vendor.index].increment(by: Int64(incoming.body.readableBytes))
        self.access.received(bodyBytes: incoming.body.readableBytes)
        if let callback = incoming.callback {
            self.handleCallback(incoming, route: callback)
            return
        }
        guard let context = self.context else { return }
        // With both seams pass-through nobody reads the id or the client, so neither is built.
        let seamsArePassThrough = self.core.inspector == nil && self.core.recorder.isPassThrough
        let vendor = incoming.vendor
        var headers = HeaderHygiene.requestHeadersForVendor(
            incoming.head.headers,
            allowed: vendor.configuration.forwardedHeaders
        )
        headers.add(name: "Host", value: vendor.configuration.upstream.hostHeader)
        let client = seamsArePassThrough ? EgressClient(address: nil) : self.client
        let request = EgressRequest(
            id: seamsArePassThrough ? "" : self.nextRequestID(),
            vendor: vendor.configuration.name,
            method: incoming.head.method,
            path: String(incoming.path),
            query: incoming.query.map(String.init),
            headers: headers,
            body: incoming.body,
            client: client
        )
        let exchange = EgressExchange(
            core: self.core,
            vendor: vendor,
            pool: self.loop.pools[vendor.index],
            eventLoop: context.eventLoop,
            request: request,
            client: client,
            clientName: self.clientName,
            labHeaders: incoming.head.headers
        ) { answer in
            self.exchange = nil
            self.answer(answer, vendorIndex: vendor.index)
        }
        self.exchange = exchange
        exchange.run()
    }

    /// A vendor's callback: verified, restored and delivered inside the lab by the callback service.
    private func handleCallback(_ incoming: Incoming, route: CallbackService.Route) {
        guard let context = self.context, let callbacks = self.core.callbacks else { return }
        let request = CallbackService.Request(
            id: self.nextRequestID(),
            head: incoming.head,
            query: incoming.query.map(String.init),
            body: incoming.body,
            client: self.client
        )
        callbacks.handle(request, route: route, on: context.eventLoop).assumeIsolated().whenSuccess { answer in
            self.answer(
                .response(status: answer.status, headers: answer.headers, body: answer.body, isHead: false),
                vendorIndex: route.vendorIndex
            )
        }
    }

    // MARK: Answers

    private static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]

    /// Answers the complete request: with keep-alive the next queued request is handled, otherwise the connection
    /// closes once the answer is written.
    private func answer(_ answer: EgressExchange.Answer, vendorIndex: Int?) {
        guard case .write(let keepAlive) = self.machine.answerReady() else { return }  // the lab went away
        switch answer {
        case .response(let status, let headers, let body, let isHead):
            self.writeResponse(
                status: status,
                headers: headers,
                body: body,
                keepAlive: keepAlive,
                vendorIndex: vendorIndex,
                closeNow: !keepAlive,
                decision: "forwarded",
                isHead: isHead
            )
        case .refusal(let refusal):
            self.write(refusal: refusal, vendorIndex: vendorIndex, keepAlive: keepAlive, closeNow: !keepAlive)
        }
        if keepAlive {
            self.drainQueued()
        }
    }

    private func write(refusal: EgressRefusal, vendorIndex: Int?, keepAlive: Bool, closeNow: Bool) {
        self.writeResponse(
            status: refusal.status,
            headers: Self.jsonHeaders,
            body: ErrorResponse.body(refusal, allocator: self.context?.channel.allocator ?? ByteBufferAllocator()),
            keepAlive: keepAlive,
            vendorIndex: vendorIndex,
            closeNow: closeNow,
            decision: refusal.code
        )
    }

    /// Writes head, body and end, then flushes once.
    private func writeResponse(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer,
        keepAlive: Bool,
        vendorIndex: Int?,
        closeNow: Bool,
        decision: String,
        isHead: Bool = false
    ) {
        guard let context = self.context else { return }
        let bodyless = isHead || status.code == 204 || status.code == 304 || status.code < 200
        // The lab can quote the id to a reviewer: `airlock log body <id>` shows exactly what the vendor received.
        let requestID = self.responseRequestID
        self.responseRequestID = nil
        let message = ResponseSerializer.serialize(
            status: status,
            headers: headers,
            body: bodyless ? nil : body,
            connectionClose: !keepAlive,
            requestID: requestID,
            allocator: context.channel.allocator
        )
        if closeNow {
            context.writeAndFlush(self.wrapOutboundOut(message)).assumeIsolated().whenComplete { _ in
                self.context?.close(promise: nil)
            }
        } else if !keepAlive {
            self.lastWrite = context.writeAndFlush(self.wrapOutboundOut(message))
        } else {
            context.writeAndFlush(self.wrapOutboundOut(message), promise: nil)
        }
        let index = vendorIndex ?? self.core.vendors.count
        self.loop.metrics.countRequest(vendorIndex: index, status: Int(status.code))
        // The route pattern, never the path: paths and queries can carry content.
        self.access.answered(
            logger: self.core.logger,
            requestID: requestID,
            client: self.client,
            vendor: self.core.metrics.vendorNames[index],
            decision: decision,
            status: status.code,
            bytesOut: bodyless ? 0 : body.readableBytes
        )
        if let vendorIndex, !bodyless {
            self.core.metrics.airlockToLabBytes[vendorIndex].increment(by: Int64(body.readableBytes))
        }
    }
}

@available(*, unavailable)
extension ProxyHTTPHandler: Sendable {}
