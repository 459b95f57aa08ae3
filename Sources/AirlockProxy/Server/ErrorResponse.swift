import AirlockSupport
import NIOCore
import NIOHTTP1

/// The JSON body of every refusal: `{"error": {"code": "...", "message": "...", "rule": "..."}}`.
enum ErrorResponse {
    static func body(_ refusal: EgressRefusal, allocator: ByteBufferAllocator) -> ByteBuffer {
        var text = "{\"error\": {\"code\": "
        Self.appendJSONString(refusal.code, to: &text)
        if let rule = refusal.rule {
            text += ", \"rule\": "
            Self.appendJSONString(rule, to: &text)
        }
        text += ", \"message\": "
        Self.appendJSONString(refusal.message, to: &text)
        text += "}}\n"
        return allocator.buffer(string: text)
    }

    static func appendJSONString(_ value: String, to text: inout String) {
        text += JSONString.quoted(value)
    }
}

extension EgressRefusal {
    static func unknownVendor() -> EgressRefusal {
        EgressRefusal(status: .notFound, code: "unknown_vendor", message: "no vendor is configured for this path")
    }
    static func routeNotAllowed(vendor: String) -> EgressRefusal {
        EgressRefusal(
            status: .forbidden,
            code: "route_not_allowed",
            message: "this method and path are not in the route allowlist of vendor \(vendor)"
        )
    }
    static func bodyTooLarge(limit: Int) -> EgressRefusal {
        EgressRefusal(
            status: .payloadTooLarge,
            code: "body_too_large",
            message: "the request body exceeds limits.max_body_bytes (\(limit) bytes)"
        )
    }
    /// 403: a policy rule with `action: block` matched. `inspection` says which policy and what it found.
    static func blockedByPolicy(rule: String, reason: String, inspection: EgressInspection?) -> EgressRefusal {
        var refusal = EgressRefusal(
            status: .forbidden,
            code: "blocked_by_policy",
            message: "the request was blocked by policy rule '\(rule)': \(reason)",
            rule: rule
        )
        refusal.inspection = inspection
        return refusal
    }
    /// 422: the body (or, with `code: "uninspectable_request"`, the URL) could not be parsed, so it was not sent.
    static func uninspectable(
        _ reason: String,
        code: String = "uninspectable_body",
        inspection: EgressInspection? = nil
    ) -> EgressRefusal {
        let what = code == "uninspectable_body" ? "request body" : "request"
        var refusal = EgressRefusal(
            status: .unprocessableEntity,
            code: code,
            message: "the \(what) cannot be inspected, so it was not forwarded: \(reason)"
        )
        refusal.inspection = inspection
        return refusal
    }
    static func badRequest(_ message: String) -> EgressRefusal {
        EgressRefusal(status: .badRequest, code: "bad_request", message: message)
    }
    static func auditUnavailable() -> EgressRefusal {
        EgressRefusal(
            status: .serviceUnavailable,
            code: "audit_unavailable",
            message: "the egress decision could not be recorded; nothing was sent"
        )
    }
    static func inspectionFailed() -> EgressRefusal {
        EgressRefusal(
            status: .internalServerError,
            code: "inspection_failed",
            message: "the request could not be inspected; nothing was sent"
        )
    }
    static func responseInspectionFailed() -> EgressRefusal {
        EgressRefusal(
            status: .badGateway,
            code: "response_inspection_failed",
            message: "the vendor response could not be inspected"
        )
    }
    /// 502: the vendor redirected off its own origin (or outside its base path); the lab never sees where.
    static func vendorRedirectRefused(vendor: String) -> EgressRefusal {
        EgressRefusal(
            status: .badGateway,
            code: "vendor_redirect_refused",
            message: "vendor \(vendor) redirected to a URL outside its own origin; the redirect was not passed on"
        )
    }
    static func shuttingDown() -> EgressRefusal {
        EgressRefusal(status: .serviceUnavailable, code: "shutting_down", message: "Airlock is shutting down")
    }
}
