import AirlockSupport
import Foundation

/// Which decisions a reviewer asks for. Every set field must match.
public struct AuditQuery: Sendable {
    public var since: Date? {
        didSet { sinceText = since.map(RFC3339.format) }
    }
    public var until: Date? {
        didSet { untilText = until.map(RFC3339.format) }
    }
    public var vendor: String?
    public var decision: AuditDecision?
    /// Matches the blocking rule or any finding's rule id.
    public var rule: String?
    /// Matches the client IP or the configured client name exactly, or a substring of the mTLS subject.
    public var client: String?
    /// Matches the reason category (`policy_block`, `limit`, …) or the reason code (`body_too_large`, …) exactly.
    public var reason: String?
    /// Egress or inbound callbacks only; records written before directions were recorded count as egress.
    public var direction: AuditDirection?
    /// `since` and `until` in the log's time format: formatted once per query, not once per entry.
    private var sinceText: String?
    private var untilText: String?

    public init(
        since: Date? = nil,
        until: Date? = nil,
        vendor: String? = nil,
        decision: AuditDecision? = nil,
        rule: String? = nil,
        client: String? = nil,
        reason: String? = nil,
        direction: AuditDirection? = nil
    ) {
        self.since = since
        self.until = until
        self.sinceText = since.map(RFC3339.format)
        self.untilText = until.map(RFC3339.format)
        self.vendor = vendor
        self.decision = decision
        self.rule = rule
        self.client = client
        self.reason = reason
        self.direction = direction
    }

    public func matches(_ entry: AuditEntry) -> Bool {
        guard entry.event == .decision else { return false }
        // The log's times are fixed-width UTC, so they compare as strings; the bounds are formatted the same way
        // (truncated to the millisecond the log records).
        if let sinceText, entry.time < sinceText { return false }
        if let untilText, entry.time > untilText { return false }
        if let vendor, entry.vendor != vendor { return false }
        if let decision, entry.decision != decision { return false }
        if let rule, entry.rule != rule, !(entry.findings ?? []).contains(where: { $0.id == rule }) { return false }
        if let reason, entry.category?.rawValue != reason, entry.reason != reason { return false }
        if let direction, entry.effectiveDirection != direction { return false }
        if let client {
            let subjectMatches = entry.client?.subject.map { $0.contains(client) } ?? false
            if entry.client?.ip != client && entry.client?.name != client && !subjectMatches { return false }
        }
        return true
    }
}
