import Foundation

/// Which decisions a reviewer asks for. Every set field must match.
public struct AuditQuery: Sendable {
    public var since: Date? {
        didSet { sinceText = since.map(AuditTime.format) }
    }
    public var until: Date? {
        didSet { untilText = until.map(AuditTime.format) }
    }
    public var vendor: String?
    public var decision: AuditDecision?
    /// Matches the blocking rule or any finding's rule id.
    public var rule: String?
    /// Matches the client IP or the configured client name exactly, or a substring of the mTLS subject.
    public var client: String?
    /// `since` and `until` in the log's time format: formatted once per query, not once per entry.
    private var sinceText: String?
    private var untilText: String?

    public init(
        since: Date? = nil, until: Date? = nil, vendor: String? = nil, decision: AuditDecision? = nil,
        rule: String? = nil, client: String? = nil
    ) {
        self.since = since
        self.until = until
        self.sinceText = since.map(AuditTime.format)
        self.untilText = until.map(AuditTime.format)
        self.vendor = vendor
        self.decision = decision
        self.rule = rule
        self.client = client
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
        if let client {
            let subjectMatches = entry.client?.subject.map { $0.contains(client) } ?? false
            if entry.client?.ip != client && entry.client?.name != client && !subjectMatches { return false }
        }
        return true
    }
}

/// Counts and bytes over a set of decisions.
public struct AuditStats: Sendable, Codable, Equatable {
    public struct Bucket: Sendable, Codable, Equatable {
        public var requests = 0
        public var forwarded = 0
        public var blocked = 0
        public var error = 0
        public var requestBytes = 0
        public var forwardedBytes = 0

        enum CodingKeys: String, CodingKey {
            case requests, forwarded, blocked, error
            case requestBytes = "request_bytes"
            case forwardedBytes = "forwarded_bytes"
        }
    }

    public struct RuleBucket: Sendable, Codable, Equatable {
        /// Requests in which the rule matched (or that it blocked).
        public var requests = 0
        /// Total matches across those requests.
        public var matches = 0
        /// Requests this rule blocked.
        public var blocked = 0
        /// Matches per action taken.
        public var actions: [String: Int] = [:]
    }

    public var total = Bucket()
    public var byVendor: [String: Bucket] = [:]
    public var byDecision: [String: Bucket] = [:]
    public var byRule: [String: RuleBucket] = [:]

    enum CodingKeys: String, CodingKey {
        case total
        case byVendor = "by_vendor"
        case byDecision = "by_decision"
        case byRule = "by_rule"
    }

    public init() {}

    public init(_ decisions: [AuditEntry]) {
        for entry in decisions where entry.event == .decision {
            Self.add(entry, to: &total)
            Self.add(entry, to: &byVendor[entry.vendor ?? "-", default: Bucket()])
            Self.add(entry, to: &byDecision[entry.decision?.rawValue ?? "-", default: Bucket()])
            var seen = Set<String>()
            for finding in entry.findings ?? [] {
                var bucket = byRule[finding.id, default: RuleBucket()]
                if seen.insert(finding.id).inserted { bucket.requests += 1 }
                bucket.matches += finding.count
                bucket.actions[finding.action, default: 0] += finding.count
                byRule[finding.id] = bucket
            }
            if entry.decision == .blocked, let rule = entry.rule {
                var bucket = byRule[rule, default: RuleBucket()]
                if seen.insert(rule).inserted { bucket.requests += entry.requests }
                bucket.blocked += entry.requests
                byRule[rule] = bucket
            }
        }
    }

    /// One decision record, or as many requests as an aggregated refusal record stands for.
    private static func add(_ entry: AuditEntry, to bucket: inout Bucket) {
        let requests = entry.requests
        bucket.requests += requests
        switch entry.decision {
        case .forwarded: bucket.forwarded += requests
        case .blocked: bucket.blocked += requests
        case .error, nil: bucket.error += requests
        }
        bucket.requestBytes += entry.requestBytes ?? 0
        bucket.forwardedBytes += entry.forwardedBytes ?? 0
    }
}

extension AuditLogReader {
    /// The decisions matching `query`, in log order, each completed with its outcome (vendor status, duration,
    /// error) when one was recorded.
    public func decisions(matching query: AuditQuery = AuditQuery()) throws(AuditError) -> [AuditEntry] {
        var rows: [AuditEntry] = []
        var rowByID: [String: Int] = [:]
        for entry in try entries() {
            switch entry.event {
            case .decision where query.matches(entry):
                if let id = entry.id { rowByID[id] = rows.count }
                rows.append(entry)
            case .outcome:
                guard let id = entry.id, let row = rowByID[id] else { continue }
                rows[row].status = entry.status ?? rows[row].status
                rows[row].durationMs = entry.durationMs ?? rows[row].durationMs
                rows[row].error = entry.error ?? rows[row].error
            default:
                continue
            }
        }
        return rows
    }
}
