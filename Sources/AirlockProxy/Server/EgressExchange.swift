import Logging
import NIOCore
import NIOHTTP1

/// One request's way out and its answer's way back: inspect -> record -> forward -> restore.
///
/// Created by ``ProxyHTTPHandler`` for a complete, admitted request; runs on the connection's event loop (the seams
/// through ``SeamRunner``) and hands exactly one ``Answer`` to `finish`. Fails closed at every step: an inspection
/// that throws, a decision the audit log cannot take, a vendor that redirects off its origin are refused, and the
/// vendor gets nothing that was not inspected and recorded first.
final class EgressExchange {
    /// What the lab is answered.
    enum Answer {
        /// The vendor's response as restored; `isHead`: the request was a HEAD (no body is written).
        case response(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, isHead: Bool)
        case refusal(EgressRefusal)
    }

    private let core: ProxyCore
    private let vendor: VendorRuntime
    private let pool: UpstreamPool
    private let eventLoop: any EventLoop
    /// The request as received (after header hygiene), before inspection.
    private let request: EgressRequest
    /// Body bytes received from the lab.
    private let requestBytes: Int
    /// The sender, for records (anonymous when no seam reads it).
    private let client: EgressClient
    /// With `clients:`: the recognised client's name, for its metrics.
    private let clientName: String?
    /// The lab's request headers: a vendor's `Location` is mapped to the authority the lab addressed Airlock by.
    private let labHeaders: HTTPHeaders
    private let finish: (Answer) -> Void
    /// The lab went away: a request not yet admitted is withdrawn, unrecorded, so nothing more is sent. A refusal is
    /// still recorded: nothing leaves with it, and a lab that hangs up at once must not keep a block out of the log.
    var abandoned = false
    /// The decision is recorded (or needs no record), so the request may have left.
    private var admitted = false

    init(
        core: ProxyCore,
        vendor: VendorRuntime,
        pool: UpstreamPool,
        eventLoop: any EventLoop,
        request: EgressRequest,
        client: EgressClient,
        clientName: String?,
        labHeaders: HTTPHeaders,
        finish: @escaping (Answer) -> Void
    ) {
        self.core = core
        self.vendor = vendor
        self.pool = pool
        self.eventLoop = eventLoop
        self.request = request
        self.requestBytes = request.body.readableBytes
        self.client = client
        self.clientName = clientName
        self.labHeaders = labHeaders
        self.finish = finish
    }

    /// Inspects the request (unless nothing is inspected) and carries the decision out.
    func run() {
        guard let inspector = self.core.inspector else {
            self.decided(.forward(self.request))
            return
        }
        let request = self.request
        let vendor = self.vendor
        let started = NIODeadline.now()
        SeamRunner.run(
            (inspector, request),
            bodyBytes: self.requestBytes,
            readsImages: inspector.readsImages(request),
            on: self.eventLoop,
            { try $0.0.inspect($0.1) }
        ) {
            result in
            self.core.metrics.inspectionTime[vendor.index].recordNanoseconds((NIODeadline.now() - started).nanoseconds)
            switch result {
            case .success(let decision):
                self.decided(decision)
            case .failure:
                self.core.logger.warning(
                    "inspection failed; request refused",
                    metadata: ["airlock.vendor": "\(vendor.configuration.name)"]
                )
                self.decided(.refuse(EgressRefusal(.inspectionFailed)))
            }
        }
    }

    private func refuse(_ refusal: EgressRefusal) {
        self.finish(.refusal(refusal))
    }

    private func decided(_ decision: EgressDecision) {
        switch decision {
        case .refuse(let refusal): self.refused(refusal)
        case .forward(let request): self.approved(request)
        }
    }

    /// The inspector refused: recorded (the path as the policy redacted it), then answered; nothing leaves.
    private func refused(_ refusal: EgressRefusal) {
        let vendor = self.vendor
        let isError = refusal.status.code >= 500
        self.core.metrics.recordDecision(
            vendorIndex: vendor.index,
            forwarded: false,
            error: isError,
            findings: refusal.inspection?.findings ?? [],
            candidate: refusal.inspection?.candidate
        )
        self.core.clientMetrics?.count(
            client: self.clientName,
            vendorIndex: vendor.index,
            result: isError ? .error : .blocked
        )
        guard !self.core.recorder.isPassThrough else {
            self.refuse(refusal)
            return
        }
        let record = self.decisionRecord(
            id: self.request.id,
            method: self.request.method,
            // The path as the policy redacted it; as received it can hold the very value that was blocked.
            path: refusal.inspection?.redactedPath ?? EgressDecisionRecord.withheldPath,
            decision: isError ? .error : .blocked,
            refusal: refusal,
            requestBytes: self.requestBytes,
            forwarded: nil
        )
        self.recordDecision(record) { result in
            self.refuse((try? result.get()) != nil ? refusal : EgressRefusal(.auditUnavailable))
        }
    }

    /// The inspector let `request` (as it rewrote it) leave: re-framed for the vendor and forwarded, its decision
    /// recorded first.
    private func approved(_ request: EgressRequest) {
        let vendor = self.vendor
        var request = request
        if self.core.recorder.unavailableReason != nil {
            // The log cannot take the decision now (the audit disk is nearly full): refused before a connection
            // to the vendor is even opened, so the vendor sees nothing of the request, not even a handshake.
            self.core.metrics.recordDecision(
                vendorIndex: vendor.index,
                forwarded: false,
                error: true,
                findings: request.inspection?.findings ?? []
            )
            self.core.clientMetrics?.count(client: self.clientName, vendorIndex: vendor.index, result: .error)
            self.core.logger.error(
                "audit log unavailable; request refused",
                metadata: ["airlock.vendor": "\(vendor.configuration.name)"]
            )
            self.refuse(EgressRefusal(.auditUnavailable))
            return
        }
        self.core.metrics.recordDecision(
            vendorIndex: vendor.index,
            forwarded: true,
            error: false,
            findings: request.inspection?.findings ?? [],
            candidate: request.inspection?.candidate
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
            self.forward(request, decision: nil)
            return
        }
        let record = self.decisionRecord(
            id: request.id,
            method: request.method,
            path: request.path,
            decision: .forwarded,
            refusal: nil,
            requestBytes: self.requestBytes,
            forwarded: request
        )
        self.forward(request, decision: record)
    }

    private func decisionRecord(
        id: String,
        method: HTTPMethod,
        path: String,
        decision: EgressDecisionRecord.Decision,
        refusal: EgressRefusal?,
        requestBytes: Int,
        forwarded: EgressRequest?
    ) -> EgressDecisionRecord {
        EgressDecisionRecord(
            requestID: id,
            vendor: self.vendor.configuration.name,
            method: method,
            path: path,
            client: self.client,
            decision: decision,
            reason: refusal?.code,
            rule: refusal?.rule,
            category: refusal?.category ?? .allowed,
            direction: .egress,
            requestBytes: requestBytes,
            forwarded: forwarded,
            inspection: refusal?.inspection,
            status: refusal.map { Int($0.status.code) }
        )
    }

    /// Sends `request` through the vendor's pool. With an audit log, `decision` is recorded once a connection to
    /// the vendor is ready (certificate and pins verified) and before the first byte is written: a request that
    /// never left (connect, TLS, no connection in time) is recorded as such, with no outcome, instead.
    private func forward(_ request: EgressRequest, decision: EgressDecisionRecord?) {
        let vendor = self.vendor
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
        let sentBytes = Int64(request.body.readableBytes)
        self.admitted = decision == nil
        if self.admitted { self.core.metrics.airlockToVendorBytes[vendor.index].increment(by: sentBytes) }
        let admit = decision.map { record in
            { (proceed: @escaping (Bool) -> Void) in
                // The lab went away while the connection was made: the request is withdrawn unrecorded, so nothing
                // is sent, and the pool gets its connection back.
                guard !self.abandoned else {
                    proceed(false)
                    return
                }
                self.recordDecision(record) { result in
                    switch result {
                    case .success:
                        self.admitted = true
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
        self.pool.execute(
            upstreamRequest,
            timeout: self.core.upstreamTimeout,
            maxResponseBytes: self.core.maxResponseBytes,
            admit: admit
        ) { result in
            self.received(result, for: request, decision: decision, elapsed: NIODeadline.now() - start)
        }
    }

    /// The vendor's answer (or why there is none): recorded as the outcome, mapped, restored and answered.
    private func received(
        _ result: Result<UpstreamResponse, UpstreamError>,
        for request: EgressRequest,
        decision: EgressDecisionRecord?,
        elapsed: TimeAmount
    ) {
        let vendor = self.vendor
        self.core.metrics.upstreamLatency[vendor.index].recordNanoseconds(elapsed.nanoseconds)
        switch result {
        case .success(var response):
            self.core.metrics.vendorToAirlockBytes[vendor.index].increment(by: Int64(response.body.readableBytes))
            let redirectRefused = !self.mapLocations(in: &response, for: request)
            self.recordOutcome(
                request,
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
                self.refuse(EgressRefusal(.vendorRedirectRefused(vendor: vendor.configuration.name)))
                return
            }
            self.deliver(response, for: request)
        case .failure(.withdrawn):
            self.refuse(EgressRefusal(.auditUnavailable))
        case .failure(let error):
            var metadata: Logger.Metadata = [
                "airlock.vendor": "\(vendor.configuration.name)", "airlock.error": "\(error.label)",
            ]
            // Connect and TLS failures are the operator's to fix (address, CA, pin): logged as warnings, with why.
            let level: Logger.Level = error.operatorDetail == nil ? .debug : .warning
            if let detail = error.operatorDetail { metadata["airlock.detail"] = "\(detail)" }
            if !self.admitted, let decision {
                self.core.logger.log(level: level, "vendor unavailable; nothing was sent", metadata: metadata)
                self.recordUnsent(request, decision: decision, error: error)
                return
            }
            self.core.logger.log(level: level, "vendor exchange failed", metadata: metadata)
            self.recordOutcome(request, status: nil, error: error.label, elapsed: elapsed, responseBytes: 0)
            self.refuse(error.refusal(vendor: vendor.configuration.name))
        }
    }

    /// Records a request whose vendor could not be reached as not forwarded (decision `error`, the refusal's code as
    /// reason, no forwarded body), then answers the lab.
    private func recordUnsent(
        _ request: EgressRequest,
        decision: EgressDecisionRecord,
        error: UpstreamError
    ) {
        let vendor = self.vendor
        var refusal = error.refusal(vendor: vendor.configuration.name)
        refusal.inspection = request.inspection
        let record = self.decisionRecord(
            id: request.id,
            method: request.method,
            path: request.path,
            decision: .error,
            refusal: refusal,
            requestBytes: decision.requestBytes,
            forwarded: nil
        )
        self.recordDecision(record) { result in
            self.refuse((try? result.get()) != nil ? refusal : EgressRefusal(.auditUnavailable))
        }
    }

    /// Maps the vendor's `Location` and `Content-Location` to Airlock (see `VendorLocation`). False when a redirect
    /// (3xx) points off the vendor's origin: the lab is refused instead. A foreign URL in any other response is
    /// dropped, so the lab never learns a direct address.
    private func mapLocations(
        in response: inout UpstreamResponse,
        for request: EgressRequest
    )
        -> Bool
    {
        let headers = response.head.headers
        guard headers.contains(where: { Self.isLocationHeader($0.name) }) else { return true }
        let configuration = self.vendor.configuration
        let isRedirect = response.head.status.code >= 300 && response.head.status.code < 400
        let labAuthority = self.labHeaders.first(name: "host")
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
        status: Int?,
        error: String?,
        elapsed: TimeAmount,
        responseBytes: Int
    ) {
        guard !self.core.recorder.isPassThrough else { return }
        let record = EgressOutcomeRecord(
            requestID: request.id,
            vendor: self.vendor.configuration.name,
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
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.core.recorder.recordDecision(record, completing: promise)
        promise.futureResult.assumeIsolated().whenComplete(then)
    }

    private func deliver(_ response: UpstreamResponse, for request: EgressRequest) {
        let isHead = request.method == .HEAD
        var headers = HeaderHygiene.responseHeadersForLab(response.head.headers)
        if isHead, let length = response.head.headers.first(name: "content-length") {
            headers.add(name: "Content-Length", value: length)
        }
        guard let inspector = self.core.inspector else {
            self.finish(.response(status: response.head.status, headers: headers, body: response.body, isHead: isHead))
            return
        }
        let egressResponse = EgressResponse(status: response.head.status, headers: headers, body: response.body)
        let transformed = { (result: Result<EgressResponse, any Error>) in
            switch result {
            case .success(let transformed):
                self.finish(
                    .response(
                        status: transformed.status,
                        headers: transformed.headers,
                        body: transformed.body,
                        isHead: isHead
                    )
                )
            case .failure:
                self.refuse(EgressRefusal(.responseInspectionFailed))
            }
        }
        SeamRunner.run(
            (inspector, egressResponse, request),
            bodyBytes: egressResponse.body.readableBytes,
            on: self.eventLoop,
            { try $0.0.transformResponse($0.1, for: $0.2) },
            then: transformed
        )
    }
}

@available(*, unavailable)
extension EgressExchange: Sendable {}
