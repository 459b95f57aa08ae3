import AirlockAudit
import NIOHTTP1

/// Why Airlock refused a request. Rendered as `{"error": {"code": …, "message": …, "rule": …}}`.
///
/// `message` is shown to the lab and logged: it must never carry matched content, only what rule fired and why.
public struct EgressRefusal: Error, Sendable, Hashable {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    public var rule: String?
    /// The kind of refusal recorded with it (``RefusalCause/category`` for Airlock's own).
    public var category: ReasonCategory

    /// What inspection found before refusing, if the refusal came from a policy.
    public var inspection: EgressInspection?

    /// An inspector's own refusal: a policy decision unless `category` says otherwise.
    public init(
        status: HTTPResponseStatus,
        code: String,
        message: String,
        rule: String? = nil,
        category: ReasonCategory = .policyBlock
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.rule = rule
        self.category = category
    }
}
