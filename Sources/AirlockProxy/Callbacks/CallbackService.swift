import AirlockRedaction
import AirlockTLS
import Logging
import Metrics
import NIOCore
import NIOHTTP1

/// Vendor callbacks (webhooks) arriving on Airlock's listener: verified, checked, restored and delivered in the lab.
///
/// For each callback, in order: the method must be POST; the vendor's auth header must carry the route's secret
/// (compared in constant time; 401 otherwise); the body must be JSON that parses (415/422 otherwise); pseudonyms are
/// restored with the vendor's policy, as in vendor responses; the decision is recorded in the audit log (503 and
/// nothing delivered if it cannot be); the restored body is delivered to the route's `deliver_to`; the vendor gets
/// the lab's status (502/504 when the lab's endpoint fails or is silent) and never the lab's response body.
///
/// Everything runs on the lab-facing connection's event loop, except restoring large bodies and the recorder's hop.
/// Errors and logs carry vendor names, route paths and reason codes, never the secret or body content.
final class CallbackService: Sendable {
    /// One configured route, ready to serve.
    struct Route: Sendable {
        var configuration: ProxyConfiguration.CallbackRoute
        /// Index of the route's vendor in the proxy's vendor list.
        var vendorIndex: Int
        var tls: TLSClientContext?
        var outcomes: [Outcome: Counter]
    }

    /// How a callback ended, as counted in `airlock_callbacks_total{outcome=…}`.
    enum Outcome: String, Sendable, CaseIterable {
        case delivered
        case unauthorized
        case refused
        case deliveryFailed = "delivery_failed"
        case auditUnavailable = "audit_unavailable"
    }

    /// A complete callback request as the proxy received it.
    struct Request {
        var id: String
        var head: HTTPRequestHead
        var query: String?
        var body: ByteBuffer
        var client: EgressClient
    }

    /// What the vendor is answered.
    struct Answer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    let routes: [Route]
    private let inspector: any EgressInspector
    private let recorder: any EgressRecorder
    private let logger: Logger
    private let timeout: TimeAmount
    private let maxResponseBytes: Int

    /// - Throws: when a route's CA bundle cannot be loaded.
    init(
        configuration: ProxyConfiguration,
        inspector: any EgressInspector,
        recorder: any EgressRecorder,
        registry: PrometheusRegistry,
        logger: Logger
    ) throws(TLSError) {
        registry.setHelp("Vendor callbacks, by vendor and outcome.", for: "airlock_callbacks_total")
        var routes: [Route] = []
        for route in configuration.callbacks?.routes ?? [] {
            guard let vendorIndex = configuration.vendors.firstIndex(where: { $0.name == route.vendor }) else {
                continue  // the parser guarantees the vendor exists
            }
            let tls =
                route.deliverTo.isTLS
                ? try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: route.trustRoots))
                : nil
            var outcomes: [Outcome: Counter] = [:]
            for outcome in Outcome.allCases {
                outcomes[outcome] = Counter(
                    label: "airlock_callbacks_total",
                    dimensions: [("vendor", route.vendor), ("outcome", outcome.rawValue)],
                    factory: registry
                )
            }
            routes.append(Route(configuration: route, vendorIndex: vendorIndex, tls: tls, outcomes: outcomes))
        }
        self.routes = routes
        self.inspector = inspector
        self.recorder = recorder
        self.logger = logger
        self.timeout = .nanoseconds(Int64(configuration.limits.upstreamTimeoutSeconds * 1e9))
        self.maxResponseBytes = configuration.limits.maxResponseBytes
    }

    /// The route whose public path is exactly `path`.
    func route(for path: Substring) -> Route? {
        guard !self.routes.isEmpty else { return nil }
        return self.routes.first { path.utf8.elementsEqual($0.configuration.path.utf8) }
    }

    /// Handles one complete callback; the future always succeeds with the answer for the vendor.
    func handle(_ request: Request, route: Route, on eventLoop: any EventLoop) -> EventLoopFuture<Answer> {
        let vendor = route.configuration.vendor
        if let (refusal, outcome) = Self.headRefusal(request.head, route: route) {
            return self.refuse(refusal, request, route, outcome: outcome, on: eventLoop)
        }
        if let refusal = Self.uninspectable(request.body) {
            return self.refuse(refusal, request, route, outcome: .refused, on: eventLoop)
        }

        // The same restore the vendor-response path uses, with the vendor's policy.
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: request.head.headers.first(name: "content-type") ?? "application/json")
        let pseudonymised = EgressResponse(status: .ok, headers: headers, body: request.body)
        let context = EgressRequest(
            id: request.id,
            vendor: vendor,
            method: .POST,
            path: route.configuration.path,
            query: nil,
            headers: headers,
            body: request.body,
            client: request.client
        )
        let inspector = self.inspector
        let restored = SeamRunner.run(bodyBytes: request.body.readableBytes, on: eventLoop) {
            try inspector.transformResponse(pseudonymised, for: context)
        }
        return restored.flatMap { restoredBody in
            self.recordAndDeliver(request, route: route, restored: restoredBody.body, on: eventLoop)
        }.flatMapError { _ in
            self.refuse(
                EgressRefusal(.callbackNotRestorable),
                request,
                route,
                outcome: .refused,
                on: eventLoop
            )
        }
    }

    /// What can be judged from the head alone: the method, the vendor's auth and the body's type. The proxy calls it
    /// before reading the body, so a callback that will be refused is answered without buffering it; counts the
    /// refusal it returns.
    func preflight(_ head: HTTPRequestHead, route: Route) -> EgressRefusal? {
        guard let (refusal, outcome) = Self.headRefusal(head, route: route) else { return nil }
        route.outcomes[outcome]?.increment()
        return refusal
    }

    static func headRefusal(_ head: HTTPRequestHead, route: Route) -> (EgressRefusal, Outcome)? {
        guard head.method == .POST else {
            return (EgressRefusal(.callbackMethodNotAllowed), .refused)
        }
        let auth = route.configuration.auth
        let presented = head.headers[auth.header]
        guard presented.count == 1, auth.secret.matches(presented[0]) else {
            return (
                EgressRefusal(.callbackUnauthorized(header: auth.header, vendor: route.configuration.vendor)),
                .unauthorized
            )
        }
        let headers = head.headers
        if let encoding = headers.first(name: "content-encoding"), encoding.lowercased() != "identity" {
            return (EgressRefusal(.callbackCompressed), .refused)
        }
        guard OutgoingCallbacks.isJSON(headers.first(name: "content-type")) else {
            return (EgressRefusal(.callbackNotJSON), .refused)
        }
        return nil
    }

    /// Refuses bodies Airlock cannot parse: only JSON that parses (as the engine parses it).
    static func uninspectable(_ body: ByteBuffer) -> EgressRefusal? {
        do {
            _ = try body.withUnsafeReadableBytes { bytes throws(FieldLocator.Failure) in
                try Self.parser.locate(bytes, format: .json)
            }
        } catch {
            return EgressRefusal(.callbackNotParseable(reason: error.reason))
        }
        return nil
    }

    /// Locates nothing: parses only.
    private static let parser = FieldLocator(keys: [])

    // Over 80 lines: one future chain (record, deliver, answer) whose closures share the request, route and clock.
    private func recordAndDeliver(
        _ request: Request,
        route: Route,
        restored: ByteBuffer,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Answer> {
        let target = route.configuration.deliverTo
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Type", value: request.head.headers.first(name: "content-type") ?? "application/json")
        headers.add(name: "Content-Length", value: String(restored.readableBytes))
        headers.add(name: "User-Agent", value: "airlock-callback")
        headers.add(name: "Airlock-Callback-Vendor", value: route.configuration.vendor)
        headers.add(name: "Airlock-Request-Id", value: request.id)
        headers.add(name: "Connection", value: "close")
        var uri = target.path
        if let query = request.query {
            uri += "?" + query
        }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers)

        // What came in from the vendor (still pseudonymised) is what the log keeps; the lab's copy is restored.
        let received = EgressRequest(
            id: request.id,
            vendor: route.configuration.vendor,
            method: .POST,
            path: route.configuration.path,
            query: nil,
            headers: [:],
            body: request.body,
            client: request.client
        )
        let recorded: EventLoopFuture<Void>
        if self.recorder.isPassThrough {
            recorded = eventLoop.makeSucceededVoidFuture()
        } else {
            let promise = eventLoop.makePromise(of: Void.self)
            self.recorder.recordDecision(
                EgressDecisionRecord(
                    requestID: request.id,
                    vendor: route.configuration.vendor,
                    method: .POST,
                    path: route.configuration.path,
                    client: request.client,
                    decision: .forwarded,
                    reason: nil,
                    rule: nil,
                    category: .allowed,
                    direction: .inbound,
                    requestBytes: request.body.readableBytes,
                    forwarded: received
                ),
                completing: promise
            )
            recorded = promise.futureResult
        }
        let started = NIODeadline.now()
        return recorded.flatMap {
            CallbackDelivery.deliver(
                head: head,
                body: restored,
                to: target,
                tls: route.tls,
                timeout: self.timeout,
                maxResponseBytes: self.maxResponseBytes,
                on: eventLoop
            ).map { response -> Answer in
                self.recordOutcome(
                    request,
                    route: route,
                    status: Int(response.status.code),
                    error: nil,
                    since: started,
                    on: eventLoop
                )
                route.outcomes[.delivered]?.increment()
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                return Answer(
                    status: response.status,
                    headers: headers,
                    body: ByteBuffer(string: "{\"delivered\": true, \"status\": \(response.status.code)}\n")
                )
            }.flatMapError { error in
                let failure = error as? UpstreamError ?? .connectFailed(error)
                self.recordOutcome(
                    request,
                    route: route,
                    status: nil,
                    error: failure.label,
                    since: started,
                    on: eventLoop
                )
                self.logger.warning(
                    "callback delivery failed",
                    metadata: [
                        "airlock.vendor": "\(route.configuration.vendor)", "airlock.error": "\(failure.label)",
                        "airlock.request": "\(request.id)",
                    ]
                )
                route.outcomes[.deliveryFailed]?.increment()
                let timedOut: Bool
                if case .timeout = failure { timedOut = true } else { timedOut = false }
                return eventLoop.makeSucceededFuture(
                    Self.answer(EgressRefusal(.callbackDeliveryFailed(label: failure.label, timedOut: timedOut)))
                )
            }
        }.flatMapError { _ in
            // Only the audit record can fail here: nothing was delivered.
            self.logger.error(
                "callback decision could not be recorded; callback refused",
                metadata: ["airlock.vendor": "\(route.configuration.vendor)"]
            )
            route.outcomes[.auditUnavailable]?.increment()
            return eventLoop.makeSucceededFuture(Self.answer(EgressRefusal(.auditUnavailable)))
        }
    }

    private func recordOutcome(
        _ request: Request,
        route: Route,
        status: Int?,
        error: String?,
        since: NIODeadline,
        on eventLoop: any EventLoop
    ) {
        guard !self.recorder.isPassThrough else { return }
        let record = EgressOutcomeRecord(
            requestID: request.id,
            vendor: route.configuration.vendor,
            vendorStatus: status,
            error: error,
            durationNanoseconds: (NIODeadline.now() - since).nanoseconds,
            responseBytes: 0
        )
        let logger = self.logger
        let requestID = record.requestID
        self.recorder.recordOutcome(record) { _ in
            logger.error("callback outcome could not be recorded", metadata: ["airlock.request": "\(requestID)"])
        }
    }

    /// Records a refusal (when a recorder is configured) and answers with it; nothing is delivered.
    private func refuse(
        _ refusal: EgressRefusal,
        _ request: Request,
        _ route: Route,
        outcome: Outcome,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Answer> {
        route.outcomes[outcome]?.increment()
        self.logger.debug(
            "callback refused",
            metadata: ["airlock.vendor": "\(route.configuration.vendor)", "airlock.reason": "\(refusal.code)"]
        )
        guard !self.recorder.isPassThrough else {
            return eventLoop.makeSucceededFuture(Self.answer(refusal))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        self.recorder.recordDecision(
            EgressDecisionRecord(
                requestID: request.id,
                vendor: route.configuration.vendor,
                method: request.head.method,
                path: route.configuration.path,
                client: request.client,
                decision: refusal.status.code >= 500 ? .error : .blocked,
                reason: refusal.code,
                rule: refusal.rule,
                category: refusal.category,
                direction: .inbound,
                requestBytes: request.body.readableBytes,
                forwarded: nil,
                status: Int(refusal.status.code)
            ),
            completing: promise
        )
        return promise.futureResult.map { Self.answer(refusal) }.recover { _ in
            Self.answer(EgressRefusal(.auditUnavailable))
        }
    }

    static func answer(_ refusal: EgressRefusal) -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return Answer(status: refusal.status, headers: headers, body: ErrorResponse.body(refusal, allocator: .init()))
    }
}
