import AirlockAudit
import AirlockRedaction

/// What inspection of one request found: the policy that judged it and, per rule, what matched.
///
/// Findings carry rule ids, actions, counts, JSONPaths and keyed fingerprints — never a matched value — so this can
/// travel to the audit log and metrics as it is.
public struct EgressInspection: Sendable, Hashable {
    /// `name@sha256:…` of the policy, or `none`.
    public var policy: String
    public var findings: [Finding]
    /// For a refusal after the policy redacted the URL: the path as it would have left. The audit log records this
    /// (never the path as received, which can hold what the policy blocked).
    public var redactedPath: String?
    /// Where the vendor's candidate policy would have decided differently (`CandidateComparison`); nil when it
    /// agreed or there is none.
    public var candidate: CandidateDifference?

    public init(policy: String, findings: [Finding], redactedPath: String? = nil) {
        self.policy = policy
        self.findings = findings
        self.redactedPath = redactedPath
    }
}
