import AirlockSupport
import Foundation

/// Counts and bytes over a set of decisions. `total`, `byVendor`, `byDecision` and `byReason` count egress (the lab's
/// requests to vendors); vendors' callbacks into the lab are counted apart, in `inbound` and `inboundByVendor`.
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
    /// Egress per reason category (`-` for records written before categories were recorded).
    public var byReason: [String: Bucket] = [:]
    /// Inbound callbacks: all of them, and per vendor.
    public var inbound = Bucket()
    public var inboundByVendor: [String: Bucket] = [:]

    enum CodingKeys: String, CodingKey {
        case total, inbound
        case byVendor = "by_vendor"
        case byDecision = "by_decision"
        case byRule = "by_rule"
        case byReason = "by_reason"
        case inboundByVendor = "inbound_by_vendor"
    }

    public init() {}

    public init(_ decisions: [AuditEntry]) {
        for entry in decisions where entry.event == .decision {
            switch entry.effectiveDirection {
            case .egress:
                Self.add(entry, to: &total)
                Self.add(entry, to: &byVendor[entry.vendor ?? "-", default: Bucket()])
                Self.add(entry, to: &byDecision[entry.decision?.rawValue ?? "-", default: Bucket()])
                Self.add(entry, to: &byReason[entry.category?.rawValue ?? "-", default: Bucket()])
            case .inbound:
                Self.add(entry, to: &inbound)
                Self.add(entry, to: &inboundByVendor[entry.vendor ?? "-", default: Bucket()])
            }
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
