import NIOCore
import NIOHTTP1

/// Admission: each request head is routed and checked (``RequestAdmission``, the client, the vendor's allowlist)
/// before its body is read; refused here, nothing of it is ever forwarded.
extension ProxyHTTPHandler {
    /// Routes and checks a request head (see ``RequestAdmission``): refused before its body is read, or admitted.
    // Over 80 lines: the admission order is the security argument (framing, proxy form, target, vendor, tunnel
    // host, callback, client, route), read top to bottom; each step is one call and its refusal.
    func admit(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.requestMethod = head.method
        self.clientIndex = nil
        self.access.begin()
        // Request smuggling guard: headers that leave the framing, decoding or routing of the message open (two
        // Content-Lengths, both framings, two Content-Types...) are refused once the vendor is known, and the
        // connection is closed whatever is refused first, as the next message boundary cannot be trusted.
        let ambiguity = HeaderHygiene.ambiguity(head.headers)
        let keepAlive = RequestAdmission.mayKeepAlive(head, ambiguity: ambiguity)
        if let refusal = self.proxyFormRefusal(head) {
            // After a CONNECT the request decoder reads no further message: the connection closes.
            self.refuseEarly(refusal, vendorIndex: self.tunnel?.vendor.index, callback: false, keepAlive: false)
            return
        }
        let path: Substring
        let query: Substring?
        switch RequestAdmission.target(head.uri, maxURIBytes: self.core.maxURIBytes) {
        case .accepted(let acceptedPath, let acceptedQuery):
            (path, query) = (acceptedPath, acceptedQuery)
        case .refused(let cause):
            self.refuseEarly(EgressRefusal(cause), vendorIndex: nil, callback: false, keepAlive: keepAlive)
            return
        }
        let callback = self.core.callbacks?.route(for: path)
        let routed = callback.map({ (self.core.vendors[$0.vendorIndex], path) }) ?? self.route(path)
        // With `clients:`, who asks is settled before where to: an unknown client learns no vendor prefix.
        if callback == nil, let refusal = self.identifyClient(head, vendorIndex: routed?.0.index) {
            self.refuseEarly(
                refusal,
                vendorIndex: routed?.0.index,
                callback: false,
                keepAlive: keepAlive,
                record: routed.map { _ in (head, EgressDecisionRecord.withheldPath) }
            )
            return
        }
        guard let (vendor, rest) = routed else {
            self.refuseEarly(self.core.unroutedRefusal, vendorIndex: nil, callback: false, keepAlive: keepAlive)
            return
        }
        self.access.routed(
            callback == nil
                ? RequestAdmission.matchedRoute(vendor.configuration, method: head.method, rest: rest)?.description
                : "callback"
        )
        let record = (head, Self.auditPath(rest, callback: callback))
        if let (refusal, recordedPath) = self.routeRefusal(
            head,
            vendor: vendor,
            rest: rest,
            callback: callback,
            ambiguity: ambiguity
        ) {
            self.refuseEarly(
                refusal,
                vendorIndex: vendor.index,
                callback: callback != nil,
                keepAlive: keepAlive,
                record: (head, recordedPath ?? record.1)
            )
            return
        }
        switch RequestAdmission.body(head.headers, maxBodyBytes: self.core.maxBodyBytes) {
        case .refused(let cause, let recorded):
            self.refuseEarly(
                EgressRefusal(cause),
                vendorIndex: vendor.index,
                callback: callback != nil,
                keepAlive: false,
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
            self.incoming = Incoming(
                vendor: vendor,
                head: head,
                path: rest,
                query: query,
                body: body,
                callback: callback
            )
            self.machine.admitted(keepAlive: head.isKeepAlive)
        }
    }

    /// A vendor's callback: wrong method, missing or wrong auth, a body type Airlock cannot check are refused
    /// before the body is read. Anything else: the client's grant and the vendor's route allowlist. A route
    /// refusal comes with the path its record carries (see ``RouteRefusalPath``); nil: the usual one.
    private func routeRefusal(
        _ head: HTTPRequestHead,
        vendor: VendorRuntime,
        rest: Substring,
        callback: CallbackService.Route?,
        ambiguity: String?
    ) -> (EgressRefusal, String?)? {
        if let ambiguity {
            return (EgressRefusal(.badRequest(ambiguity)), nil)
        } else if let refusal = self.tunnelHostRefusal(head) {
            return (refusal, nil)
        } else if let callback {
            return self.core.callbacks?.preflight(head, route: callback).map { ($0, nil) }
        } else if let refusal = self.clientMayNotUse(vendor) {
            return (refusal, nil)
        } else if RequestAdmission.routeAllowed(vendor.configuration, method: head.method, rest: rest) {
            return nil
        }
        let recorded = RouteRefusalPath.record(routes: vendor.configuration.routes, rest: rest)
        return (EgressRefusal(.routeNotAllowed(vendor: vendor.configuration.name)), recorded)
    }

    /// With `clients:`: recognises the request's client (kept in `clientName` for its records), or refuses the
    /// request 401 before its body is read. `vendorIndex`: the vendor its path names, if any.
    private func identifyClient(_ head: HTTPRequestHead, vendorIndex: Int?) -> EgressRefusal? {
        if let tunnel = self.tunnel {
            // Named by Proxy-Authorization when the tunnel was opened.
            self.clientIndex = tunnel.clientIndex
            return nil
        }
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
}
