import AirlockAudit
import NIOHTTP1

/// Every reason Airlock itself refuses a request, and the one place each maps to the status, code and message the
/// lab sees (rendered by ``ErrorResponse``). An inspector of one's own may still build an ``EgressRefusal`` directly.
///
/// Messages name rules, limits, settings and vendors, never request content.
enum RefusalCause: Sendable, Hashable {
    // Admission: refused from the head (or the body's size) before anything is inspected.
    case badRequest(String)
    case uriTooLong(limit: Int)
    case unknownVendor
    /// 404 on the callback listener: it serves the configured callback paths and nothing else.
    case notACallback
    case routeNotAllowed(vendor: String)
    case bodyTooLarge(limit: Int)
    case expectationFailed
    case requestHeadTimeout
    case requestBodyTimeout
    /// 401: `clients:` is configured and the request names no client (or names one unclearly).
    case clientUnauthenticated(reason: String)
    /// 403: the client is not allowed to use this vendor.
    case clientNotAllowed(client: String, vendor: String)

    // The forward listener (see ProxyConfiguration.Forward) and proxy requests elsewhere.
    /// 407: no, or no recognised, client token in `Proxy-Authorization`.
    case proxyAuthenticationRequired(reason: String)
    /// 403: a CONNECT to a host no vendor lists (or to an IP address): default deny. The host is not repeated.
    case forwardHostNotListed
    /// 403: a CONNECT to a listed host on another port than 443.
    case forwardPortNotAllowed(port: Int)
    /// 403: an absolute-form (plain-HTTP) proxy request to the forward listener.
    case plainHTTPProxyRefused
    /// 400: a CONNECT or absolute-form request to the lab's reverse listener; `forward`: the forward listener's
    /// address, when one is configured.
    case notAForwardProxy(forward: String?)
    /// 400: a CONNECT or absolute-form request inside an intercepted tunnel.
    case proxyRequestInTunnel
    /// 421: a request in an intercepted tunnel whose `Host` is not the host the tunnel was opened to.
    case tunnelHostMismatch
    /// 502: the leaf certificate for an intercepted host could not be made.
    case interceptionFailed

    // Inspection and audit.
    /// 403: a policy rule with `action: block` matched.
    case blockedByPolicy(rule: String, reason: String)
    /// 422: the body could not be parsed, so it was not sent.
    case uninspectableBody(String)
    /// 422: the URL or a header could not be parsed, so the request was not sent.
    case uninspectableRequest(String)
    case noPolicyForContent(vendor: String)
    case inspectionFailed
    case responseInspectionFailed
    case auditUnavailable
    case shuttingDown

    // The vendor exchange.
    case vendorUnreachable(vendor: String)
    case vendorTLSVerificationFailed(vendor: String, detail: String)
    case vendorTLSFailed(vendor: String)
    /// `midResponse`: the vendor had started answering.
    case vendorConnectionClosed(vendor: String, midResponse: Bool)
    case vendorTimeout(vendor: String)
    case vendorResponseTooLarge(vendor: String, limit: Int)
    case vendorBadResponse(vendor: String)
    case requestUnframeable(vendor: String)
    /// 502: the vendor redirected off its own origin (or outside its base path); the lab never sees where.
    case vendorRedirectRefused(vendor: String)

    // Inbound callbacks (the vendor is the client).
    /// 405: callbacks are POSTed.
    case callbackMethodNotAllowed
    /// 401: the callback did not carry the vendor's configured authentication in `header`.
    case callbackUnauthorized(header: String, vendor: String)
    /// 415: a compressed callback (its Content-Encoding value is never echoed).
    case callbackCompressed
    /// 415: not `application/json`.
    case callbackNotJSON
    /// 422: the body does not parse as JSON.
    case callbackNotParseable(reason: String)
    /// 422: the pseudonyms in the body could not be restored.
    case callbackNotRestorable
    /// 502/504: the lab's receiver could not take the callback.
    case callbackDeliveryFailed(label: String, timedOut: Bool)

    /// Status, code and message: the whole mapping.
    // Over 80 lines: one exhaustive switch, so every refusal's status, code and message stay in one place.
    var rendering: (status: HTTPResponseStatus, code: String, message: String) {
        switch self {
        case .badRequest(let message):
            (.badRequest, "bad_request", message)
        case .uriTooLong(let limit):
            (.uriTooLong, "uri_too_long", "the request URI exceeds \(limit) bytes")
        case .unknownVendor:
            (.notFound, "unknown_vendor", "no vendor is configured for this path")
        case .notACallback:
            (
                .notFound, "unknown_callback",
                "this listener serves vendor callbacks only, and no callback is configured for this path"
            )
        case .routeNotAllowed(let vendor):
            (
                .forbidden, "route_not_allowed",
                "this method and path are not in the route allowlist of vendor \(vendor)"
            )
        case .bodyTooLarge(let limit):
            (.payloadTooLarge, "body_too_large", "the request body exceeds limits.max_body_bytes (\(limit) bytes)")
        case .expectationFailed:
            (.expectationFailed, "expectation_failed", "only Expect: 100-continue is supported")
        case .requestHeadTimeout:
            (
                .requestTimeout, "request_timeout",
                "the request head did not arrive within limits.request_head_timeout_seconds"
            )
        case .requestBodyTimeout:
            (
                .requestTimeout, "request_timeout",
                "the request body did not arrive in time (limits.request_body_grace_seconds, then at least "
                    + "limits.request_body_min_bytes_per_second); nothing was sent"
            )
        case .clientUnauthenticated(let reason):
            (.unauthorized, "client_unauthenticated", reason)
        case .clientNotAllowed(let client, let vendor):
            (.forbidden, "client_not_allowed", "client \(client) may not use vendor \(vendor)")
        case .proxyAuthenticationRequired(let reason):
            (.proxyAuthenticationRequired, "proxy_authentication_required", reason)
        case .forwardHostNotListed:
            (
                .forbidden, "host_not_listed",
                "this host is not a vendor host of this Airlock (vendors[].hosts); all other egress is denied"
            )
        case .forwardPortNotAllowed(let port):
            (.forbidden, "port_not_allowed", "vendor hosts are reached on port 443 only, not \(port)")
        case .plainHTTPProxyRefused:
            (
                .forbidden, "plain_http_refused",
                "plain-HTTP proxy requests are refused: vendors are reached over https only (CONNECT host:443)"
            )
        case .notAForwardProxy(let forward):
            (
                .badRequest, "not_a_forward_proxy",
                "this listener is a reverse proxy; "
                    + (forward.map { "use the forward listener at \($0) for HTTPS_PROXY" }
                        ?? "this Airlock has no forward listener (forward:); use https://<airlock>/<vendor prefix>/...")
            )
        case .proxyRequestInTunnel:
            (.badRequest, "proxy_request_in_tunnel", "CONNECT and absolute-form requests are refused inside a tunnel")
        case .tunnelHostMismatch:
            (
                .misdirectedRequest, "host_mismatch",
                "the Host header does not name the host this tunnel was opened to"
            )
        case .interceptionFailed:
            (.badGateway, "interception_failed", "no certificate could be made for this host; nothing was sent")
        case .blockedByPolicy(let rule, let reason):
            (.forbidden, "blocked_by_policy", "the request was blocked by policy rule '\(rule)': \(reason)")
        case .uninspectableBody(let reason):
            (
                .unprocessableEntity, "uninspectable_body",
                "the request body cannot be inspected, so it was not forwarded: \(reason)"
            )
        case .uninspectableRequest(let reason):
            (
                .unprocessableEntity, "uninspectable_request",
                "the request cannot be inspected, so it was not forwarded: \(reason)"
            )
        case .noPolicyForContent(let vendor):
            (
                .forbidden, "no_policy_for_content",
                "vendor '\(vendor)' has policy: none, which allows only GET, HEAD and DELETE without a body"
            )
        case .inspectionFailed:
            (.internalServerError, "inspection_failed", "the request could not be inspected; nothing was sent")
        case .responseInspectionFailed:
            (.badGateway, "response_inspection_failed", "the vendor response could not be inspected")
        case .auditUnavailable:
            (
                .serviceUnavailable, "audit_unavailable",
                "the egress decision could not be recorded; nothing was sent"
            )
        case .shuttingDown:
            (.serviceUnavailable, "shutting_down", "Airlock is shutting down")
        case .vendorUnreachable(let vendor):
            (.badGateway, "vendor_unreachable", "could not connect to vendor \(vendor)")
        case .vendorTLSVerificationFailed(let vendor, let detail):
            (
                .badGateway, "vendor_tls_verification_failed",
                "the TLS certificate of vendor \(vendor) did not verify (\(detail)); nothing was sent"
            )
        case .vendorTLSFailed(let vendor):
            (.badGateway, "vendor_tls_failed", "the TLS handshake with vendor \(vendor) failed; nothing was sent")
        case .vendorConnectionClosed(let vendor, midResponse: false):
            (.badGateway, "vendor_connection_closed", "vendor \(vendor) closed the connection before answering")
        case .vendorConnectionClosed(let vendor, midResponse: true):
            (
                .badGateway, "vendor_connection_closed",
                "vendor \(vendor) closed the connection before a complete response"
            )
        case .vendorTimeout(let vendor):
            (
                .gatewayTimeout, "vendor_timeout",
                "vendor \(vendor) did not answer within limits.upstream_timeout_seconds"
            )
        case .vendorResponseTooLarge(let vendor, let limit):
            (.badGateway, "vendor_response_too_large", "the response of vendor \(vendor) exceeds \(limit) bytes")
        case .vendorBadResponse(let vendor):
            (.badGateway, "vendor_bad_response", "vendor \(vendor) sent a response that is not valid HTTP/1.1")
        case .requestUnframeable(let vendor):
            (
                .internalServerError, "request_unframeable",
                "the request for vendor \(vendor) could not be written as HTTP/1.1; nothing was sent"
            )
        case .vendorRedirectRefused(let vendor):
            (
                .badGateway, "vendor_redirect_refused",
                "vendor \(vendor) redirected to a URL outside its own origin; the redirect was not passed on"
            )
        case .callbackMethodNotAllowed:
            (.methodNotAllowed, "method_not_allowed", "callbacks are accepted with POST only")
        case .callbackUnauthorized(let header, let vendor):
            (
                .unauthorized, "callback_unauthorized",
                "the callback did not carry valid \(header) authentication for vendor \(vendor)"
            )
        case .callbackCompressed:
            (
                // The header's value is the sender's and may hold anything: never echoed (nor recorded).
                .unsupportedMediaType, "uninspectable_callback",
                "callbacks must not be compressed (a Content-Encoding was sent); nothing was delivered"
            )
        case .callbackNotJSON:
            (
                .unsupportedMediaType, "uninspectable_callback",
                "callbacks must be application/json; nothing was delivered"
            )
        case .callbackNotParseable(let reason):
            (
                .unprocessableEntity, "uninspectable_callback",
                "the callback body is not valid JSON (\(reason)); nothing was delivered"
            )
        case .callbackNotRestorable:
            (
                .unprocessableEntity, "uninspectable_callback",
                "the callback body could not be restored, so it was not delivered"
            )
        case .callbackDeliveryFailed(let label, let timedOut):
            (
                timedOut ? .gatewayTimeout : .badGateway,
                timedOut ? "callback_delivery_timeout" : "callback_delivery_failed",
                "the callback could not be delivered inside the lab (\(label))"
            )
        }
    }

    /// The category reviewers filter by, recorded next to the code: every cause belongs to exactly one.
    var category: ReasonCategory {
        switch self {
        case .blockedByPolicy, .noPolicyForContent:
            .policyBlock
        case .badRequest, .expectationFailed, .uninspectableBody, .uninspectableRequest, .inspectionFailed,
            .responseInspectionFailed, .callbackCompressed, .callbackNotJSON, .callbackNotParseable,
            .callbackNotRestorable:
            .uninspectable
        case .unknownVendor, .notACallback, .routeNotAllowed, .clientNotAllowed, .callbackMethodNotAllowed,
            .forwardHostNotListed, .forwardPortNotAllowed, .notAForwardProxy, .plainHTTPProxyRefused,
            .proxyRequestInTunnel, .tunnelHostMismatch:
            .routeNotAllowed
        case .clientUnauthenticated, .callbackUnauthorized, .proxyAuthenticationRequired:
            .unauthenticated
        case .interceptionFailed:
            .uninspectable
        case .uriTooLong, .bodyTooLarge, .requestHeadTimeout, .requestBodyTimeout, .vendorResponseTooLarge:
            .limit
        case .vendorUnreachable, .vendorTLSVerificationFailed, .vendorTLSFailed, .vendorConnectionClosed,
            .vendorTimeout, .vendorBadResponse, .requestUnframeable, .vendorRedirectRefused, .callbackDeliveryFailed:
            .vendorError
        case .auditUnavailable:
            .audit
        case .shuttingDown:
            .unavailable
        }
    }

    /// The policy rule a refusal names, for the `rule` field of its body and its audit record.
    var rule: String? {
        if case .blockedByPolicy(let rule, _) = self { return rule }
        return nil
    }
}

extension EgressRefusal {
    /// The refusal for `cause`; `inspection` says what the policy found before refusing, if it got that far.
    init(_ cause: RefusalCause, inspection: EgressInspection? = nil) {
        let (status, code, message) = cause.rendering
        self.init(status: status, code: code, message: message, rule: cause.rule, category: cause.category)
        self.inspection = inspection
    }
}
