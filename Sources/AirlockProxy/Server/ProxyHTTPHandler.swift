import AirlockTLS
import Logging
import NIOCore
import NIOHTTP1

/// Serves one lab connection: routes, checks, buffers, runs the seams, forwards through the vendor's pool, answers.
///
/// Sits after the TLS handler and NIO's HTTP/1.1 server pipeline (with pipelining assistance, so one request is
/// handled at a time and the next is read only once this one's response is written). Everything runs on the
/// channel's event loop; the inspector and recorder are awaited off-loop and their results hopped back.
final class ProxyHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    /// Responses are serialised here into one buffer (head and body together), so each answer is one write and one
    /// TLS record instead of one per part.
    typealias OutboundOut = ByteBuffer

    /// A request being received.
    private struct Incoming {
        var vendor: VendorRuntime
        var head: HTTPRequestHead
        var path: Substring
        var query: Substring?
        var body: ByteBuffer
        /// Set for a vendor's callback to a route of `callbacks:`; handled by the callback service.
        var callback: CallbackService.Route? = nil
    }

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Routed and allowed; buffering the body.
        case receiving(Incoming)
        /// Refused before the body was read; dropping the rest of the body. `closeAtEnd`: close once both the body
        /// has ended and the refusal is written; `responded`/`ended` track those two.
        case discarding(Discarding)
        /// The request is complete; waiting for the seams or the vendor.
        case processing(keepAlive: Bool)
        /// A parse error or a close is under way; ignore everything.
        case closing
    }

    private struct Discarding {
        var closeAtEnd: Bool
        var discarded = 0
        var responded = false
        var ended = false
    }

    private let core: ProxyCore
    private let loop: LoopContext
    private var state: State = .idle
    private var context: ChannelHandlerContext?
    private let connectionID: UInt64
    /// The id of the request whose response is written next (nil when no seam needed one).
    private var responseRequestID: String?
    private var requestCounter: UInt32 = 0
    private var lingerTimer: Scheduled<Void>?
    /// The last response write, kept only while a close waits for it.
    private var lastWrite: EventLoopFuture<Void>?
    /// Parts of requests the client pipelined behind one whose response is not written yet. Reads are never paused
    /// for this (pausing costs two epoll_ctl calls per request); instead the queue is bounded and a client that
    /// overfills it is disconnected.
    private var queued = CircularBuffer<HTTPServerRequestPart>(initialCapacity: 4)
    private var queuedBytes = 0
    private var isDraining = false
    /// Shutdown has begun: answer what is in progress with `Connection: close`, then close.
    private var quiescing = false
    /// The lab's headers of the request being forwarded (one at a time per connection): a vendor's `Location` is
    /// mapped to the authority the lab addressed Airlock by.
    private var labHeaders = HTTPHeaders()
    /// The client broke the framing or overfilled the pipelining queue behind a request still being answered:
    /// nothing more is read, that answer is still written (with `Connection: close`), then the connection closes.
    private var inputEnded = false
    private var labHost: String? { self.labHeaders.first(name: "host") }
    /// With `clients:`: the index of the request's client (one request at a time per connection).
    private var clientIndex: Int?
    private var clientName: String? {
        self.clientIndex.flatMap { self.core.clients?.clients[$0].name }
    }
    /// The connection's head and body deadlines, told about each part as it arrives.
    private var deadlines: RequestDeadlineHandler?
    /// The method of the request being handled, for the record of an early refusal.
    private var requestMethod: HTTPMethod?

    init(core: ProxyCore, loop: LoopContext) {
        self.core = core
        self.loop = loop
        self.connectionID = loop.makeConnectionID()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.core.metrics.clientConnections.increment()
        self.deadlines = try? context.pipeline.syncOperations.handler(type: RequestDeadlineHandler.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.lingerTimer?.cancel()
        self.core.metrics.clientConnections.decrement()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.inputEnded else { return }
        let part = self.unwrapInboundIn(data)
        self.deadlines?.observe(part)
        if !self.queued.isEmpty || self.mustQueue {
            self.enqueue(part, context: context)
            self.drainQueued()
            return
        }
        self.handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.receivedHead(head, context: context)
        case .body(let part):
            self.receivedBody(part, context: context)
        case .end:
            self.receivedEnd(context: context)
        }
    }

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch self.state {
        case .idle:
            break
        case .closing:
            return  // a request pipelined behind one we answered with Connection: close
        case .receiving, .discarding, .processing:
            // The pipelining queue only hands us one request at a time.
            preconditionFailure("a request head arrived while another request was in progress")
        }
        self.requestMethod = head.method
        self.clientIndex = nil
        // Request smuggling guard: headers that leave the framing, decoding or routing of the message open (two
        // Content-Lengths, both framings, two Content-Types...) are refused once the vendor is known, and the
        // connection is closed whatever is refused first, as the next message boundary cannot be trusted.
        let ambiguity = HeaderHygiene.ambiguity(head.headers)
        let keepAlive = RequestAdmission.mayKeepAlive(head, ambiguity: ambiguity)
        let path: Substring
        let query: Substring?
        switch RequestAdmission.target(head.uri, maxURIBytes: self.core.maxURIBytes) {
        case .accepted(let acceptedPath, let acceptedQuery):
            (path, query) = (acceptedPath, acceptedQuery)
        case .refused(let cause):
            self.refuseEarly(EgressRefusal(cause), vendorIndex: nil, keepAlive: keepAlive, context: context)
            return
        }
        let callback = self.core.callbacks?.route(for: path)
        let routed = callback.map({ (self.core.vendors[$0.vendorIndex], path) }) ?? self.core.route(path)
        // With `clients:`, who asks is settled before where to: an unknown client learns no vendor prefix.
        if callback == nil, let refusal = self.identifyClient(head, vendorIndex: routed?.0.index) {
            self.refuseEarly(
                refusal,
                vendorIndex: routed?.0.index,
                keepAlive: keepAlive,
                context: context,
                record: routed.map { _ in (head, EgressDecisionRecord.withheldPath) }
            )
            return
        }
        guard let (vendor, rest) = routed else {
            self.refuseEarly(self.core.unroutedRefusal, vendorIndex: nil, keepAlive: keepAlive, context: context)
            return
        }
        let record = (head, Self.auditPath(rest, callback: callback))
        if let refusal = self.routeRefusal(head, vendor: vendor, rest: rest, callback: callback, ambiguity: ambiguity) {
            self.refuseEarly(refusal, vendorIndex: vendor.index, keepAlive: keepAlive, context: context, record: record)
            return
        }
        switch RequestAdmission.body(head.headers, maxBodyBytes: self.core.maxBodyBytes) {
        case .refused(let cause, let recorded):
            self.refuseEarly(
                EgressRefusal(cause),
                vendorIndex: vendor.index,
                keepAlive: false,
                context: context,
                record: recorded ? record : nil
            )
        case .accepted(let capacity, let sendContinue):
            if sendContinue {
                context.writeAndFlush(
                    self.wrapOutboundOut(
                        context.channel.allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")
                    ),
                    promise: nil
                )
            }
            let body = context.channel.allocator.buffer(capacity: capacity)
            self.state = .receiving(
                Incoming(vendor: vendor, head: head, path: rest, query: query, body: body, callback: callback)
            )
        }
    }

    /// A vendor's callback: wrong method, missing or wrong auth, a body type Airlock cannot check are refused
    /// before the body is read. Anything else: the client's grant and the vendor's route allowlist.
    private func routeRefusal(
        _ head: HTTPRequestHead,
        vendor: VendorRuntime,
        rest: Substring,
        callback: CallbackService.Route?,
        ambiguity: String?
    ) -> EgressRefusal? {
        if let ambiguity {
            return EgressRefusal(.badRequest(ambiguity))
        } else if let callback {
            return self.core.callbacks?.preflight(head, route: callback)
        } else if let refusal = self.clientMayNotUse(vendor) {
            return refusal
        } else if RequestAdmission.routeAllowed(vendor.configuration, method: head.method, rest: rest) {
            return nil
        }
        return EgressRefusal(.routeNotAllowed(vendor: vendor.configuration.name))
    }

    private func receivedBody(_ part: ByteBuffer, context: ChannelHandlerContext) {
        switch self.state {
        case .receiving(var incoming):
            self.state = .closing  // release our copy so appending does not copy the buffer
            if incoming.body.readableBytes + part.readableBytes > self.core.maxBodyBytes {
                let refusal = EgressRefusal(.bodyTooLarge(limit: self.core.maxBodyBytes))
                self.state = .idle
                self.refuseEarly(
                    refusal,
                    vendorIndex: incoming.vendor.index,
                    keepAlive: false,
                    context: context,
                    record: (incoming.head, Self.auditPath(incoming.path, callback: incoming.callback))
                )
                return
            }
            var part = part
            incoming.body.writeBuffer(&part)
            self.state = .receiving(incoming)
        case .discarding(var discarding):
            discarding.discarded += part.readableBytes
            if !discarding.closeAtEnd && discarding.discarded > self.core.maxBodyBytes {
                // Too much to skip for the sake of keep-alive.
                discarding.closeAtEnd = true
                self.startLingering()
            }
            self.state = .discarding(discarding)
        case .closing:
            break
        case .idle, .processing:
            preconditionFailure("request body without a request head")
        }
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        switch self.state {
        case .receiving(let incoming):
            self.state = .processing(keepAlive: incoming.head.isKeepAlive)
            self.core.metrics.labToAirlockBytes[incoming.vendor.index].increment(by: Int64(incoming.body.readableBytes))
            if let callback = incoming.callback {
                self.handleCallback(incoming, route: callback)
            } else {
                self.inspect(incoming)
            }
        case .discarding(var discarding):
            discarding.ended = true
            self.state = .discarding(discarding)
            self.finishDiscardingIfDone()
        case .closing:
            break
        case .idle, .processing:
            preconditionFailure("request end without a request head")
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            self.quiescing = true
            if case .idle = self.state, self.queued.isEmpty {
                self.state = .closing
                context.close(promise: nil)
            }
            return
        }
        if let timeout = event as? RequestTimeout {
            self.requestTimedOut(timeout)
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            switch self.state {
            case .idle, .receiving, .discarding:
                // A silent client (or one trickling nothing) does not get to hold a connection forever.
                self.state = .closing
                context.close(promise: nil)
            case .processing, .closing:
                break  // waiting for the vendor is bounded by the upstream timeout
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state = .closing
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError {
            switch self.state {
            case .idle, .receiving:
                // Malformed framing (e.g. Content-Length with Transfer-Encoding, bad chunk sizes): refuse and close.
                self.state = .processing(keepAlive: false)
                self.respond(
                    refusal: EgressRefusal(.badRequest("the request is not valid HTTP/1.1 (\(error))")),
                    vendorIndex: nil
                )
                return
            case .discarding, .processing:
                self.core.logger.debug(
                    "malformed request pipelined behind one being answered; closing after that answer",
                    metadata: ["airlock.conn": "\(String(self.connectionID, radix: 16))"]
                )
                self.endInputAfterPendingResponse(context: context)
                return
            case .closing:
                break
            }
        } else if !(error is TLSError) {
            self.core.logger.debug("lab connection error", metadata: ["airlock.error": "\(type(of: error))"])
        }
        self.state = .closing
        context.close(promise: nil)
    }

    // MARK: Early refusals

    /// The path an early refusal records. No policy has seen it, so only a callback's path (the configured one) is
    /// recorded as it is; a vendor path is withheld.
    private static func auditPath(_ path: Substring, callback: CallbackService.Route?) -> String {
        callback == nil ? EgressDecisionRecord.withheldPath : String(path)
    }

    /// Answers before the body has been read (nothing is ever forwarded), then drops the rest of the body.
    private func refuseEarly(
        _ refusal: EgressRefusal,
        vendorIndex: Int?,
        keepAlive: Bool,
        context: ChannelHandlerContext,
        record: (head: HTTPRequestHead, path: String)? = nil
    ) {
        self.state = .discarding(Discarding(closeAtEnd: !keepAlive))
        if !keepAlive { self.startLingering() }
        self.countRefusal(
            refusal,
            vendorIndex: vendorIndex,
            method: record?.head.method ?? self.requestMethod,
            path: record?.path
        )
        self.writeEarlyRefusal(refusal, keepAlive: keepAlive, vendorIndex: vendorIndex)
    }

    /// Counts a refusal made before any policy saw the request; the aggregator records it (at most one record per
    /// kind and client a second) without holding up the answer.
    private func countRefusal(_ refusal: EgressRefusal, vendorIndex: Int?, method: HTTPMethod?, path: String?) {
        guard !self.core.recorder.isPassThrough else { return }
        self.core.refusals.count(
            refusal,
            vendor: vendorIndex.map { self.core.vendors[$0].configuration.name },
            method: method,
            path: path ?? EgressDecisionRecord.withheldPath,
            client: self.client
        )
    }

    /// A request's head or body did not arrive in time (``RequestDeadlineHandler``). Nothing of it was forwarded (a
    /// request leaves only once complete): answer 408 when no other answer is due first, and close.
    private func requestTimedOut(_ timeout: RequestTimeout) {
        let refusal = EgressRefusal(.requestTimeout(timeout.phase))
        switch self.state {
        case .idle, .receiving:
            var vendorIndex: Int?
            var method: HTTPMethod?
            if case .receiving(let incoming) = self.state {
                vendorIndex = incoming.vendor.index
                method = incoming.head.method
            }
            self.state = .closing
            self.queued.removeAll()
            self.countRefusal(refusal, vendorIndex: vendorIndex, method: method, path: nil)
            self.writeResponse(
                status: refusal.status,
                headers: Self.jsonHeaders,
                body: self.errorBody(refusal),
                keepAlive: false,
                vendorIndex: vendorIndex,
                closeNow: true
            )
        case .discarding:
            // Already refused; the rest of its body is not worth waiting for.
            self.state = .closing
            self.closeAfterWrites()
        case .processing:
            // One pipelined behind the request in progress: that one is answered (with Connection: close), then
            // the connection closes without reading further.
            self.quiescing = true
            self.queued.removeAll()
            self.queuedBytes = 0
        case .closing:
            break
        }
    }

    private func writeEarlyRefusal(_ refusal: EgressRefusal, keepAlive requestKeepAlive: Bool, vendorIndex: Int?) {
        guard case .discarding(var discarding) = self.state else { return }
        let keepAlive = requestKeepAlive && !self.quiescing && !discarding.closeAtEnd
        discarding.responded = true
        if !keepAlive { discarding.closeAtEnd = true }
        self.state = .discarding(discarding)
        self.writeResponse(
            status: refusal.status,
            headers: Self.jsonHeaders,
            body: self.errorBody(refusal),
            keepAlive: keepAlive,
            vendorIndex: vendorIndex,
            closeNow: false
        )
        self.finishDiscardingIfDone()
    }

    /// Once the refusal is written and the refused body has ended: back to idle, or close.
    private func finishDiscardingIfDone() {
        guard case .discarding(let discarding) = self.state, discarding.responded, discarding.ended else { return }
        if discarding.closeAtEnd || self.quiescing {
            self.state = .closing
            self.closeAfterWrites()
        } else {
            self.state = .idle
            self.drainQueued()
        }
    }

    // MARK: Pipelining

    /// True while the current request has ended but its response is not written: later parts must wait.
    private var mustQueue: Bool {
        switch self.state {
        case .processing:
            return true
        case .discarding(let discarding):
            return discarding.ended && !discarding.responded
        case .idle, .receiving, .closing:
            return false
        }
    }

    private func enqueue(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        if case .closing = self.state { return }
        switch part {
        case .body(let buffer): self.queuedBytes += buffer.readableBytes
        case .head, .end: self.queuedBytes += 512
        }
        if self.queuedBytes > self.core.maxBodyBytes + (1 << 20) {
            self.core.logger.debug(
                "pipelined requests overfilled the queue; closing after the pending answer",
                metadata: ["airlock.conn": "\(String(self.connectionID, radix: 16))"]
            )
            self.endInputAfterPendingResponse(context: context)
            return
        }
        self.queued.append(part)
    }

    /// Stops reading: drops what is queued (none of it was forwarded) and everything the client still sends. A
    /// request that was already forwarded, or refused with its answer not yet written, is still answered with
    /// `Connection: close`; without one, the connection closes now.
    private func endInputAfterPendingResponse(context: ChannelHandlerContext) {
        self.queued.removeAll()
        self.queuedBytes = 0
        switch self.state {
        case .processing:
            self.inputEnded = true
            self.state = .processing(keepAlive: false)
        case .discarding(var discarding) where discarding.ended && !discarding.responded:
            self.inputEnded = true
            discarding.closeAtEnd = true
            self.state = .discarding(discarding)
        case .idle, .receiving, .discarding, .closing:
            self.state = .closing
            context.close(promise: nil)
        }
    }

    /// Hands queued parts to the request logic until one of them starts a request that must be answered first.
    private func drainQueued() {
        guard !self.isDraining, let context = self.context else { return }
        self.isDraining = true
        defer { self.isDraining = false }
        while !self.mustQueue, let part = self.queued.popFirst() {
            if case .closing = self.state {
                self.queued.removeAll()
                break
            }
            self.handle(part, context: context)
        }
        if self.queued.isEmpty { self.queuedBytes = 0 }
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
            self.state = .closing
            self.context?.close(promise: nil)
        }
    }

    // MARK: Seams and forwarding

    /// A new id for the request being handled; the response to it carries it as `Airlock-Request-Id`.
    private func nextRequestID() -> String {
        self.requestCounter &+= 1
        let id = String(self.connectionID, radix: 16) + "-" + String(self.requestCounter, radix: 16)
        self.responseRequestID = id
        return id
    }

    private lazy var peerIdentity: TLSPeerIdentity? = {
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
    private var client: EgressClient {
        var client = self.connectionClient
        client.name = self.clientName
        return client
    }

    /// With `clients:`: recognises the request's client (kept in `clientName` for its records), or refuses the
    /// request 401 before its body is read. `vendorIndex`: the vendor its path names, if any.
    private func identifyClient(_ head: HTTPRequestHead, vendorIndex: Int?) -> EgressRefusal? {
        guard let clients = self.core.clients else { return nil }
        switch clients.identify(head.headers, identity: self.peerIdentity) {
        case .success(let index):
            self.clientIndex = index
            return nil
        case .failure(let unauthenticated):
            self.core.clientMetrics?.count(
                client: nil,
                vendorIndex: vendorIndex ?? self.core.vendors.count,
                result: .unauthenticated
            )
            return EgressRefusal(.clientUnauthenticated(reason: unauthenticated.reason))
        }
    }

    /// With `clients:`: 403 when the recognised client may not use `vendor`.
    private func clientMayNotUse(_ vendor: VendorRuntime) -> EgressRefusal? {
        guard let clients = self.core.clients, let index = self.clientIndex,
            !clients.may(index, use: vendor.index)
        else { return nil }
        let name = clients.clients[index].name
        self.core.clientMetrics?.count(client: name, vendorIndex: vendor.index, result: .notAllowed)
        return EgressRefusal(.clientNotAllowed(client: name, vendor: vendor.configuration.name))
    }

    private func inspect(_ incoming: Incoming) {
        self.labHeaders = incoming.head.headers
        // With both seams pass-through nobody reads the id or the client, so neither is built.
        let seamsArePassThrough = self.core.inspector == nil && self.core.recorder.isPassThrough
        let vendor = incoming.vendor
        var headers = HeaderHygiene.requestHeadersForVendor(
            incoming.head.headers,
            allowed: vendor.configuration.forwardedHeaders
        )
        headers.add(name: "Host", value: vendor.configuration.upstream.hostHeader)
        let request = EgressRequest(
            id: seamsArePassThrough ? "" : self.nextRequestID(),
            vendor: vendor.configuration.name,
            method: incoming.head.method,
            path: String(incoming.path),
            query: incoming.query.map(String.init),
            headers: headers,
            body: incoming.body,
            client: seamsArePassThrough ? EgressClient(address: nil) : self.client
        )
        let requestBytes = incoming.body.readableBytes
        guard let inspector = self.core.inspector else {
            self.decided(.forward(request), vendor: vendor, requestBytes: requestBytes, original: request)
            return
        }
        guard let context = self.context else { return }  // the lab went away: nothing is sent
        let started = NIODeadline.now()
        let inspected = { (result: Result<EgressDecision, any Error>) in
            self.core.metrics.inspectionTime[vendor.index].recordNanoseconds(
                (NIODeadline.now() - started).nanoseconds
            )
            switch result {
            case .success(let decision):
                self.decided(decision, vendor: vendor, requestBytes: requestBytes, original: request)
            case .failure:
                self.core.logger.warning(
                    "inspection failed; request refused",
                    metadata: ["airlock.vendor": "\(vendor.configuration.name)"]
                )
                self.decided(
                    .refuse(EgressRefusal(.inspectionFailed)),
                    vendor: vendor,
                    requestBytes: requestBytes,
                    original: request
                )
            }
        }
        SeamRunner.run(
            bodyBytes: requestBytes,
            on: context.eventLoop,
            { try inspector.inspect(request) },
            then: inspected
        )
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
            self.writeFinal(
                status: answer.status,
                headers: answer.headers,
                body: answer.body,
                isHead: false,
                vendorIndex: route.vendorIndex
            )
        }
    }

    private func decided(
        _ decision: EgressDecision,
        vendor: VendorRuntime,
        requestBytes: Int,
        original: EgressRequest
    ) {
        switch decision {
        case .refuse(let refusal):
            self.core.metrics.recordDecision(
                vendorIndex: vendor.index,
                forwarded: false,
                error: refusal.status.code >= 500,
                inspection: refusal.inspection
            )
            self.core.clientMetrics?.count(
                client: self.clientName,
                vendorIndex: vendor.index,
                result: refusal.status.code >= 500 ? .error : .blocked
            )
            guard !self.core.recorder.isPassThrough else {
                self.respond(refusal: refusal, vendorIndex: vendor.index)
                return
            }
            let record = self.decisionRecord(
                id: original.id,
                vendor: vendor,
                method: original.method,
                // The path as the policy redacted it; as received it can hold the very value that was blocked.
                path: refusal.inspection?.redactedPath ?? EgressDecisionRecord.withheldPath,
                decision: refusal.status.code >= 500 ? .error : .blocked,
                refusal: refusal,
                requestBytes: requestBytes,
                forwarded: nil
            )
            self.recordDecision(record) { result in
                self.respond(
                    refusal: (try? result.get()) != nil ? refusal : EgressRefusal(.auditUnavailable),
                    vendorIndex: vendor.index
                )
            }
        case .forward(var request):
            if self.core.recorder.unavailableReason != nil {
                // The log cannot take the decision now (the audit disk is nearly full): refused before a connection
                // to the vendor is even opened, so the vendor sees nothing of the request, not even a handshake.
                self.core.metrics.recordDecision(
                    vendorIndex: vendor.index,
                    forwarded: false,
                    error: true,
                    inspection: request.inspection
                )
                self.core.clientMetrics?.count(client: self.clientName, vendorIndex: vendor.index, result: .error)
                self.core.logger.error(
                    "audit log unavailable; request refused",
                    metadata: ["airlock.vendor": "\(vendor.configuration.name)"]
                )
                self.respond(refusal: EgressRefusal(.auditUnavailable), vendorIndex: vendor.index)
                return
            }
            self.core.metrics.recordDecision(
                vendorIndex: vendor.index,
                forwarded: true,
                error: false,
                inspection: request.inspection
            )
            self.core.clientMetrics?.count(client: self.clientName, vendorIndex: vendor.index, result: .forwarded)
            HeaderHygiene.frameForVendor(
                &request.headers,
                host: vendor.configuration.upstream.hostHeader,
                method: request.method,
                bodyLength: request.body.readableBytes,
                alreadyClean: self.core.inspector == nil
            )
            guard !self.core.recorder.isPassThrough else {
                self.forward(request, vendor: vendor, decision: nil)
                return
            }
            let record = self.decisionRecord(
                id: request.id,
                vendor: vendor,
                method: request.method,
                path: request.path,
                decision: .forwarded,
                refusal: nil,
                requestBytes: requestBytes,
                forwarded: request
            )
            self.forward(request, vendor: vendor, decision: record)
        }
    }

    private func decisionRecord(
        id: String,
        vendor: VendorRuntime,
        method: HTTPMethod,
        path: String,
        decision: EgressDecisionRecord.Decision,
        refusal: EgressRefusal?,
        requestBytes: Int,
        forwarded: EgressRequest?
    ) -> EgressDecisionRecord {
        EgressDecisionRecord(
            requestID: id,
            vendor: vendor.configuration.name,
            method: method,
            path: path,
            client: self.client,
            decision: decision,
            reason: refusal?.code,
            rule: refusal?.rule,
            requestBytes: requestBytes,
            forwarded: forwarded,
            inspection: refusal?.inspection,
            status: refusal.map { Int($0.status.code) }
        )
    }

    /// Sends `request` through the vendor's pool. With an audit log, `decision` is recorded once a connection to
    /// the vendor is ready (certificate and pins verified) and before the first byte is written: a request that
    /// never left (connect, TLS, no connection in time) is recorded as such, with no outcome, instead.
    private func forward(_ request: EgressRequest, vendor: VendorRuntime, decision: EgressDecisionRecord?) {
        let upstream = vendor.configuration.upstream
        var target = upstream.basePath
        target += request.path.isEmpty ? "/" : request.path
        if let query = request.query {
            target += "?"
            target += query
        }
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: target, headers: request.headers)
        let upstreamRequest = UpstreamRequest(head: head, body: request.body)
        let start = NIODeadline.now()
        let pool = self.loop.pools[vendor.index]
        let sentBytes = Int64(request.body.readableBytes)
        var admitted = decision == nil
        if admitted { self.core.metrics.airlockToVendorBytes[vendor.index].increment(by: sentBytes) }
        let admit = decision.map { record in
            { (proceed: @escaping (Bool) -> Void) in
                self.recordDecision(record) { result in
                    switch result {
                    case .success:
                        admitted = true
                        self.core.metrics.airlockToVendorBytes[vendor.index].increment(by: sentBytes)
                        proceed(true)
                    case .failure:
                        self.core.logger.error(
                            "egress decision could not be recorded; request refused",
                            metadata: ["airlock.vendor": "\(vendor.configuration.name)"]
                        )
                        proceed(false)
                    }
                }
            }
        }
        pool.execute(
            upstreamRequest,
            timeout: self.core.upstreamTimeout,
            maxResponseBytes: self.core.maxResponseBytes,
            admit: admit
        ) { result in
            let elapsed = NIODeadline.now() - start
            self.core.metrics.upstreamLatency[vendor.index].recordNanoseconds(elapsed.nanoseconds)
            switch result {
            case .success(var response):
                self.core.metrics.vendorToAirlockBytes[vendor.index].increment(by: Int64(response.body.readableBytes))
                let redirectRefused = !self.mapLocations(in: &response, for: request, vendor: vendor)
                self.recordOutcome(
                    request,
                    vendor: vendor,
                    status: Int(response.head.status.code),
                    error: redirectRefused ? "vendor_redirect_refused" : nil,
                    elapsed: elapsed,
                    responseBytes: response.body.readableBytes
                )
                guard !redirectRefused else {
                    // The vendor's own address only; where it pointed stays out of the log.
                    self.core.logger.warning(
                        "vendor redirected off its origin; refused",
                        metadata: ["airlock.vendor": "\(vendor.configuration.name)"]
                    )
                    self.respond(
                        refusal: EgressRefusal(.vendorRedirectRefused(vendor: vendor.configuration.name)),
                        vendorIndex: vendor.index
                    )
                    return
                }
                self.deliver(response, for: request, vendor: vendor)
            case .failure(.withdrawn):
                self.respond(refusal: EgressRefusal(.auditUnavailable), vendorIndex: vendor.index)
            case .failure(let error):
                if !admitted, let decision {
                    self.core.logger.debug(
                        "vendor unavailable; nothing was sent",
                        metadata: ["airlock.vendor": "\(vendor.configuration.name)", "airlock.error": "\(error.label)"]
                    )
                    self.recordUnsent(request, decision: decision, error: error, vendor: vendor)
                    return
                }
                self.core.logger.debug(
                    "vendor exchange failed",
                    metadata: ["airlock.vendor": "\(vendor.configuration.name)", "airlock.error": "\(error.label)"]
                )
                self.recordOutcome(
                    request,
                    vendor: vendor,
                    status: nil,
                    error: error.label,
                    elapsed: elapsed,
                    responseBytes: 0
                )
                self.respond(refusal: error.refusal(vendor: vendor.configuration.name), vendorIndex: vendor.index)
            }
        }
    }

    /// Records a request whose vendor could not be reached as not forwarded (decision `error`, the refusal's code as
    /// reason, no forwarded body), then answers the lab.
    private func recordUnsent(
        _ request: EgressRequest,
        decision: EgressDecisionRecord,
        error: UpstreamError,
        vendor: VendorRuntime
    ) {
        var refusal = error.refusal(vendor: vendor.configuration.name)
        refusal.inspection = request.inspection
        let record = self.decisionRecord(
            id: request.id,
            vendor: vendor,
            method: request.method,
            path: request.path,
            decision: .error,
            refusal: refusal,
            requestBytes: decision.requestBytes,
            forwarded: nil
        )
        self.recordDecision(record) { result in
            self.respond(
                refusal: (try? result.get()) != nil ? refusal : EgressRefusal(.auditUnavailable),
                vendorIndex: vendor.index
            )
        }
    }

    /// Maps the vendor's `Location` and `Content-Location` to Airlock (see `VendorLocation`). False when a redirect
    /// (3xx) points off the vendor's origin: the lab is refused instead. A foreign URL in any other response is
    /// dropped, so the lab never learns a direct address.
    private func mapLocations(
        in response: inout UpstreamResponse,
        for request: EgressRequest,
        vendor: VendorRuntime
    )
        -> Bool
    {
        let headers = response.head.headers
        guard headers.contains(where: { Self.isLocationHeader($0.name) }) else { return true }
        let configuration = vendor.configuration
        let isRedirect = response.head.status.code >= 300 && response.head.status.code < 400
        let labAuthority = self.labHost
        var mapped = HTTPHeaders()
        for (name, value) in headers {
            guard Self.isLocationHeader(name) else {
                mapped.add(name: name, value: value)
                continue
            }
            switch VendorLocation.map(
                value,
                upstream: configuration.upstream,
                pathPrefix: configuration.pathPrefix,
                vendorPath: configuration.upstream.basePath + (request.path.isEmpty ? "/" : request.path),
                labAuthority: labAuthority
            ) {
            case .mapped(let location):
                mapped.add(name: name, value: location)
            case .foreign:
                if isRedirect && name.utf8.count == 8 { return false }
            }
        }
        response.head.headers = mapped
        return true
    }

    private static func isLocationHeader(_ name: String) -> Bool {
        switch name.utf8.count {
        case 8: name.lowercased() == "location"
        case 16: name.lowercased() == "content-location"
        default: false
        }
    }

    private func recordOutcome(
        _ request: EgressRequest,
        vendor: VendorRuntime,
        status: Int?,
        error: String?,
        elapsed: TimeAmount,
        responseBytes: Int
    ) {
        guard !self.core.recorder.isPassThrough else { return }
        let record = EgressOutcomeRecord(
            requestID: request.id,
            vendor: vendor.configuration.name,
            vendorStatus: status,
            error: error,
            durationNanoseconds: elapsed.nanoseconds,
            responseBytes: responseBytes
        )
        // The request has left; the outcome is recorded without holding up the lab's response.
        let logger = self.core.logger
        let requestID = record.requestID
        self.core.recorder.recordOutcome(record) { _ in
            logger.error("egress outcome could not be recorded", metadata: ["airlock.request": "\(requestID)"])
        }
    }

    /// Records a decision through the recorder's promise-based seam and continues on the event loop.
    private func recordDecision(
        _ record: EgressDecisionRecord,
        then: @escaping (Result<Void, any Error>) -> Void
    ) {
        guard let context = self.context else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.core.recorder.recordDecision(record, completing: promise)
        promise.futureResult.assumeIsolated().whenComplete(then)
    }

    private func deliver(_ response: UpstreamResponse, for request: EgressRequest, vendor: VendorRuntime) {
        let isHead = request.method == .HEAD
        var headers = HeaderHygiene.responseHeadersForLab(response.head.headers)
        if isHead, let length = response.head.headers.first(name: "content-length") {
            headers.add(name: "Content-Length", value: length)
        }
        guard let inspector = self.core.inspector, let context = self.context else {
            self.writeFinal(
                status: response.head.status,
                headers: headers,
                body: response.body,
                isHead: isHead,
                vendorIndex: vendor.index
            )
            return
        }
        let egressResponse = EgressResponse(status: response.head.status, headers: headers, body: response.body)
        let transformed = { (result: Result<EgressResponse, any Error>) in
            switch result {
            case .success(let transformed):
                self.writeFinal(
                    status: transformed.status,
                    headers: transformed.headers,
                    body: transformed.body,
                    isHead: isHead,
                    vendorIndex: vendor.index
                )
            case .failure:
                self.respond(refusal: EgressRefusal(.responseInspectionFailed), vendorIndex: vendor.index)
            }
        }
        SeamRunner.run(
            bodyBytes: egressResponse.body.readableBytes,
            on: context.eventLoop,
            { try inspector.transformResponse(egressResponse, for: request) },
            then: transformed
        )
    }

    // MARK: Responses

    private static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]

    private func errorBody(_ refusal: EgressRefusal) -> ByteBuffer {
        ErrorResponse.body(refusal, allocator: self.context?.channel.allocator ?? ByteBufferAllocator())
    }

    /// Answers a complete request with a refusal.
    private func respond(refusal: EgressRefusal, vendorIndex: Int?) {
        self.writeFinal(
            status: refusal.status,
            headers: Self.jsonHeaders,
            body: self.errorBody(refusal),
            isHead: false,
            vendorIndex: vendorIndex
        )
    }

    /// Answers a complete request (state `.processing`) and returns to idle, or closes.
    private func writeFinal(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer,
        isHead: Bool,
        vendorIndex: Int?
    ) {
        guard case .processing(let requestKeepAlive) = self.state else { return }  // the lab went away meanwhile
        let keepAlive = requestKeepAlive && !self.quiescing
        self.state = keepAlive ? .idle : .closing
        self.writeResponse(
            status: status,
            headers: headers,
            body: body,
            keepAlive: keepAlive,
            vendorIndex: vendorIndex,
            closeNow: !keepAlive,
            isHead: isHead
        )
        if keepAlive {
            self.drainQueued()
        }
    }

    /// Writes head, body and end, then flushes once.
    private func writeResponse(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer,
        keepAlive: Bool,
        vendorIndex: Int?,
        closeNow: Bool,
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
        // Vendor and status only: paths and queries can carry content.
        self.core.logger.debug(
            "answered",
            metadata: [
                "airlock.conn": "\(String(self.connectionID, radix: 16))",
                "airlock.vendor": "\(self.core.metrics.vendorNames[index])", "airlock.status": "\(status.code)",
            ]
        )
        if let vendorIndex, !bodyless {
            self.core.metrics.airlockToLabBytes[vendorIndex].increment(by: Int64(body.readableBytes))
        }
    }
}

@available(*, unavailable)
extension ProxyHTTPHandler: Sendable {}
