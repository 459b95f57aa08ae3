import NIOHTTP1
import Testing

@testable import AirlockProxy

/// The checks made on a request head before its body is read, as pure functions.
@Suite struct RequestAdmissionTests {
    @Test func theTargetIsSplitAtTheFirstQuestionMark() {
        #expect(
            RequestAdmission.target("/scale/v1?a=1?b", maxURIBytes: 100) == .accepted(path: "/scale/v1", query: "a=1?b")
        )
        #expect(RequestAdmission.target("/scale/v1", maxURIBytes: 100) == .accepted(path: "/scale/v1", query: nil))
    }

    @Test func targetsTheAllowlistCouldReadDifferentlyAreRefused() {
        let limit = 64
        #expect(
            RequestAdmission.target("/" + String(repeating: "a", count: 64), maxURIBytes: limit)
                == .refused(.uriTooLong(limit: 64))
        )
        for target in [
            "http://x/scale", "*", "/scale#frag", "/scale/./v1", "/scale/..;x/v1", "/scale/%2E%2e", "/a%2fb", "/a%5Cb",
            "/a\\b",
        ] {
            guard case .refused(.badRequest) = RequestAdmission.target(target, maxURIBytes: limit) else {
                Issue.record("\(target) was accepted")
                continue
            }
        }
        #expect(RequestAdmission.target("/scale/v1/a.b/..c/%41", maxURIBytes: limit) != .refused(.badRequest("")))
        guard case .accepted = RequestAdmission.target("/scale/v1/a.b/..c/%41", maxURIBytes: limit) else {
            Issue.record("a path with dots inside segments was refused")
            return
        }
    }

    @Test func theBodyFramingIsCheckedFromTheHead() {
        func headers(_ pairs: [(String, String)]) -> HTTPHeaders { HTTPHeaders(pairs) }
        #expect(RequestAdmission.body(headers([]), maxBodyBytes: 10) == .accepted(capacity: 0, sendContinue: false))
        #expect(
            RequestAdmission.body(headers([("Content-Length", "10"), ("Expect", "100-Continue")]), maxBodyBytes: 10)
                == .accepted(capacity: 10, sendContinue: true)
        )
        #expect(
            RequestAdmission.body(headers([("Content-Length", "11")]), maxBodyBytes: 10)
                == .refused(.bodyTooLarge(limit: 10), recorded: true)
        )
        #expect(
            RequestAdmission.body(headers([("Content-Length", "-1")]), maxBodyBytes: 10)
                == .refused(.badRequest("Content-Length is not a number"), recorded: false)
        )
        #expect(
            RequestAdmission.body(headers([("Expect", "later")]), maxBodyBytes: 10)
                == .refused(.expectationFailed, recorded: false)
        )
    }

    @Test func aRefusedRequestKeepsTheConnectionOnlyWhenItsBoundaryIsCertain() {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        #expect(RequestAdmission.mayKeepAlive(head, ambiguity: nil))
        #expect(!RequestAdmission.mayKeepAlive(head, ambiguity: "two Content-Length headers"))
        head.headers.add(name: "Expect", value: "100-continue")
        #expect(!RequestAdmission.mayKeepAlive(head, ambiguity: nil))
        let closing = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Connection": "close"])
        #expect(!RequestAdmission.mayKeepAlive(closing, ambiguity: nil))
    }

    /// Every cause renders with the status and code the README documents; a policy block names its rule.
    @Test func refusalCausesMapToTheirStatusAndCode() {
        let cases: [(RefusalCause, HTTPResponseStatus, String)] = [
            (.uriTooLong(limit: 1), .uriTooLong, "uri_too_long"),
            (.unknownVendor, .notFound, "unknown_vendor"),
            (.notACallback, .notFound, "unknown_callback"),
            (.routeNotAllowed(vendor: "scale"), .forbidden, "route_not_allowed"),
            (.bodyTooLarge(limit: 1), .payloadTooLarge, "body_too_large"),
            (.expectationFailed, .expectationFailed, "expectation_failed"),
            (.requestHeadTimeout, .requestTimeout, "request_timeout"),
            (.requestBodyTimeout, .requestTimeout, "request_timeout"),
            (.clientUnauthenticated(reason: "r"), .unauthorized, "client_unauthenticated"),
            (.clientNotAllowed(client: "c", vendor: "v"), .forbidden, "client_not_allowed"),
            (.blockedByPolicy(rule: "codenames", reason: "r"), .forbidden, "blocked_by_policy"),
            (.uninspectableBody("r"), .unprocessableEntity, "uninspectable_body"),
            (.uninspectableRequest("r"), .unprocessableEntity, "uninspectable_request"),
            (.noPolicyForContent(vendor: "v"), .forbidden, "no_policy_for_content"),
            (.inspectionFailed, .internalServerError, "inspection_failed"),
            (.responseInspectionFailed, .badGateway, "response_inspection_failed"),
            (.auditUnavailable, .serviceUnavailable, "audit_unavailable"),
            (.shuttingDown, .serviceUnavailable, "shutting_down"),
            (.vendorTimeout(vendor: "v"), .gatewayTimeout, "vendor_timeout"),
            (.vendorRedirectRefused(vendor: "v"), .badGateway, "vendor_redirect_refused"),
        ]
        for (cause, status, code) in cases {
            let refusal = EgressRefusal(cause)
            #expect(refusal.status == status && refusal.code == code, "\(cause)")
        }
        #expect(EgressRefusal(.blockedByPolicy(rule: "codenames", reason: "r")).rule == "codenames")
        #expect(EgressRefusal(.inspectionFailed).rule == nil)
    }
}
