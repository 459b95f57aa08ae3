/// What the vendors' candidate policies would have done differently over a set of decisions
/// (`airlock log stats --candidate`): per candidate rule, the requests it would have blocked and the matches it would
/// have added or dropped, with a few request ids to look at.
public struct CandidateStats: Sendable, Codable, Equatable {
    public struct RuleBucket: Sendable, Codable, Equatable {
        /// Requests the enforced policy let through that the candidate would have blocked with this rule.
        public var wouldBlock = 0
        /// Requests where this rule would have matched more often, and by how many matches in all.
        public var requestsWithMore = 0
        public var added = 0
        /// Requests where it would have matched less often (or not at all), and by how many matches in all.
        public var requestsWithFewer = 0
        public var removed = 0
        /// Up to `CandidateStats.maxExamples` request ids, first seen first.
        public var examples: [String] = []

        enum CodingKeys: String, CodingKey {
            case added, removed, examples
            case wouldBlock = "would_block"
            case requestsWithMore = "requests_with_more"
            case requestsWithFewer = "requests_with_fewer"
        }
    }

    public static let maxExamples = 5

    /// Decisions looked at, and those where a candidate disagreed.
    public var decisions = 0
    public var differing = 0
    /// Requests forwarded that a candidate would have blocked, and requests blocked it would have forwarded.
    public var wouldBlock = 0
    public var wouldForward = 0
    /// Candidate identities seen (`name@sha256:…`).
    public var policies: [String] = []
    public var byRule: [String: RuleBucket] = [:]

    enum CodingKeys: String, CodingKey {
        case decisions, differing, policies
        case wouldBlock = "would_block"
        case wouldForward = "would_forward"
        case byRule = "by_rule"
    }

    public init(_ decisions: [AuditEntry]) {
        for entry in decisions where entry.event == .decision {
            self.decisions += 1
            guard let candidate = entry.candidate else { continue }
            differing += 1
            if !policies.contains(candidate.policy) { policies.append(candidate.policy) }
            let id = entry.id ?? "?"
            if entry.decision == .forwarded, candidate.decision == "blocked" {
                wouldBlock += 1
                if let rule = candidate.rule {
                    Self.note(id, in: &byRule[rule, default: RuleBucket()]) { $0.wouldBlock += 1 }
                }
            }
            if entry.decision == .blocked, candidate.decision == "forwarded" { wouldForward += 1 }
            for count in candidate.findings {
                Self.note(id, in: &byRule[count.id, default: RuleBucket()]) { bucket in
                    if count.candidate > count.enforced {
                        bucket.requestsWithMore += 1
                        bucket.added += count.candidate - count.enforced
                    } else {
                        bucket.requestsWithFewer += 1
                        bucket.removed += count.enforced - count.candidate
                    }
                }
            }
        }
    }

    private static func note(_ id: String, in bucket: inout RuleBucket, _ change: (inout RuleBucket) -> Void) {
        change(&bucket)
        if bucket.examples.count < maxExamples, !bucket.examples.contains(id) { bucket.examples.append(id) }
    }
}
