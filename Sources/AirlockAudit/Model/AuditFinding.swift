import AirlockSupport
import Foundation

/// What one rule found in a request: never the matched value, only where and how often.
public struct AuditFinding: Sendable, Codable, Hashable {
    /// The rule id from the policy.
    public var id: String
    /// The action taken (`redact`, `pseudonymise`, `block`, `allow`, …).
    public var action: String
    public var count: Int
    /// JSONPaths (or other locators) of the matches, e.g. `$.messages[3].content`.
    public var paths: [String]
    /// `report` for a report-mode rule (`mode: report`): what it matched in what left, its action not applied.
    /// Absent (nil) for the rules that decided; written only when present.
    public var mode: String?

    public init(id: String, action: String, count: Int, paths: [String] = [], mode: String? = nil) {
        self.mode = mode
        self.id = id
        self.action = action
        self.count = count
        self.paths = paths
    }
}
