/// Where a vendor's candidate policy (`policy_candidate`) would have decided differently from the enforced one, as
/// written in the decision record (`"candidate"`). The enforced policy decided; this only says what the candidate
/// would have done. Rule ids, counts and paths as they left: never a value.
public struct CandidateDifference: Sendable, Codable, Hashable {
    /// One rule (and action) whose count differs between the two policies.
    public struct RuleCount: Sendable, Codable, Hashable {
        public var id: String
        public var action: String
        /// Matches under the enforced policy (0 when it has no such rule).
        public var enforced: Int
        /// Matches under the candidate.
        public var candidate: Int
        /// Where the candidate matched (or, when it matched less, where the enforced policy did), as they left.
        public var paths: [String]

        public init(id: String, action: String, enforced: Int, candidate: Int, paths: [String] = []) {
            self.id = id
            self.action = action
            self.enforced = enforced
            self.candidate = candidate
            self.paths = paths
        }
    }

    /// `name@sha256:…` of the candidate policy.
    public var policy: String
    /// What the candidate would have decided: `forwarded`, `blocked` or `error` (it could not read the body).
    public var decision: String
    /// The rule the candidate would have blocked with.
    public var rule: String?
    public var findings: [RuleCount]

    public init(policy: String, decision: String, rule: String? = nil, findings: [RuleCount] = []) {
        self.policy = policy
        self.decision = decision
        self.rule = rule
        self.findings = findings
    }
}
