import AirlockSupport
import Foundation

/// What happened to the request.
public enum AuditDecision: String, Sendable, Codable, CaseIterable {
    case forwarded
    case blocked
    case error
}
