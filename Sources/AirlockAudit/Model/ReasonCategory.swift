/// Why a decision went the way it did, in the few words a reviewer filters by. The record's `reason` keeps the
/// proxy's precise code (`body_too_large`, `uninspectable_body`, …) and `rule` the blocking rule; the category groups
/// them. Derived by the proxy from its own refusal causes, never from request content.
public enum ReasonCategory: String, Sendable, Codable, CaseIterable {
    /// Forwarded (or delivered, for an inbound callback): the policy let it through, redacted as recorded.
    case allowed
    /// A policy rule blocked it (`rule` names the rule), or the vendor has no policy for content.
    case policyBlock = "policy_block"
    /// Airlock could not parse or inspect it (`reason` names what: body, request, callback), so it was not sent.
    case uninspectable
    /// No vendor, route or callback is configured for the method and path, or the client may not use the vendor.
    case routeNotAllowed = "route_not_allowed"
    /// The client (or the vendor sending a callback) did not authenticate.
    case unauthenticated
    /// A size or time limit was exceeded.
    case limit
    /// The vendor (or, for a callback, the lab's receiver) could not be reached or answered wrongly.
    case vendorError = "vendor_error"
    /// The decision could not be made durable, so nothing was sent.
    case audit
    /// Airlock was shutting down.
    case unavailable
}
