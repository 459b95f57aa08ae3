import NIOHTTP1

/// Why Airlock refused a request. Rendered as `{"error": {"code": …, "message": …, "rule": …}}`.
///
/// `message` is shown to the lab and logged: it must never carry matched content, only what rule fired and why.
public struct EgressRefusal: Error, Sendable, Hashable {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    public var rule: String?

    /// What inspection found before refusing, if the refusal came from a policy.
    public var inspection: EgressInspection?

    public init(status: HTTPResponseStatus, code: String, message: String, rule: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.rule = rule
    }
}
