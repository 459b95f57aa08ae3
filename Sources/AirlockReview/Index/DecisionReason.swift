import AirlockAudit

/// Why a decision went the way it did, in the reviewer's categories, computed from what a record holds today: the
/// decision, the refusal code in `reason` and the blocking `rule`. The one place that maps codes to categories.
public enum DecisionReason: String, Sendable, CaseIterable {
    case forwarded
    case policyBlock = "policy-block"
    case uninspectable
    case notAllowed = "not-allowed"
    case unauthenticated
    case limit
    case vendorError = "vendor-error"
    case audit
    case other

    /// The category of `entry`.
    public static func of(_ entry: AuditEntry) -> DecisionReason {
        guard let code = entry.reason else {
            switch entry.decision {
            case .forwarded: return .forwarded
            case .blocked: return entry.rule == nil ? .other : .policyBlock
            case .error, nil: return .other
            }
        }
        return category(ofCode: code)
    }

    static func category(ofCode code: String) -> DecisionReason {
        switch code {
        case "blocked_by_policy": .policyBlock
        case "uninspectable_body", "uninspectable_request", "no_policy_for_content", "inspection_failed",
            "response_inspection_failed":
            .uninspectable
        case "route_not_allowed", "unknown_vendor", "unknown_callback", "client_not_allowed": .notAllowed
        case "client_unauthenticated": .unauthenticated
        case "body_too_large", "uri_too_long", "request_timeout", "expectation_failed", "bad_request": .limit
        case "audit_unavailable", "shutting_down": .audit
        default: code.hasPrefix("vendor_") || code == "request_unframeable" ? .vendorError : .other
        }
    }

    /// The reason as the list shows it: the category with its rule (a policy block) or its code (anything else).
    public static func text(of entry: AuditEntry) -> String {
        let category = of(entry)
        switch category {
        case .forwarded: return category.rawValue
        case .policyBlock: return entry.rule.map { "\(category.rawValue): \($0)" } ?? category.rawValue
        case .uninspectable, .notAllowed, .unauthenticated, .limit, .vendorError, .audit, .other:
            return entry.reason.map { "\(category.rawValue): \($0)" } ?? category.rawValue
        }
    }
}
