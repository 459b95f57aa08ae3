import AirlockSupport
import Foundation

/// What the proxy decided about one request, as written to the audit log.
///
/// No field holds request content: the proxy fills `path` with the path as forwarded (already redacted), `reason`
/// with its own words, and findings with rule ids, counts and JSONPaths. There is deliberately no field for a matched
/// value or a sample of one. `forwardedBytes` and `forwardedSHA256` are computed by ``AuditLog`` from the body it is
/// given; what the caller sets there is replaced.
public struct DecisionRecord: Sendable, Codable, Equatable {
    public var id: String
    public var client: AuditClient
    public var vendor: String
    public var method: String
    public var path: String
    public var decision: AuditDecision
    public var reason: String?
    /// The rule that blocked the request (for `blocked`), if any.
    public var rule: String?
    /// What kind of reason `reason` is; nil in records written before categories were recorded.
    public var category: ReasonCategory?
    /// Egress or an inbound callback; nil in records written before directions were recorded (all egress, unless
    /// they were callbacks).
    public var direction: AuditDirection?
    /// `name@sha256:…` of the loaded policy.
    public var policy: String
    public var findings: [AuditFinding]
    public var requestBytes: Int
    public var forwardedBytes: Int?
    public var forwardedSHA256: String?
    /// The status answered to the client when the request is not forwarded (403, 503, …); the vendor status of a
    /// forwarded request follows in ``AuditLog/recordOutcome(id:status:durationMs:error:)``.
    public var status: Int?
    public var durationMs: Double?
    /// For a record that stands for several refusals made before any policy saw the requests (the proxy aggregates
    /// them: one record per cause, peer and vendor per second at most): how many requests it stands for, and the
    /// times of the first and last of them. Nil for a record of one request.
    public var refusals: RefusalWindow?
    /// Where the vendor's candidate policy would have decided differently (`policy_candidate`); nil when it agreed
    /// or there is none. Written only when present.
    public var candidate: CandidateDifference?

    public init(
        id: String,
        client: AuditClient,
        vendor: String,
        method: String,
        path: String,
        decision: AuditDecision,
        reason: String? = nil,
        rule: String? = nil,
        policy: String,
        findings: [AuditFinding] = [],
        requestBytes: Int,
        status: Int? = nil,
        durationMs: Double? = nil,
        refusals: RefusalWindow? = nil,
        candidate: CandidateDifference? = nil,
        category: ReasonCategory? = nil,
        direction: AuditDirection? = nil
    ) {
        self.candidate = candidate
        self.id = id
        self.client = client
        self.vendor = vendor
        self.method = method
        self.path = path
        self.decision = decision
        self.reason = reason
        self.rule = rule
        self.policy = policy
        self.findings = findings
        self.requestBytes = requestBytes
        self.forwardedBytes = nil
        self.forwardedSHA256 = nil
        self.status = status
        self.durationMs = durationMs
        self.refusals = refusals
        self.category = category
        self.direction = direction
    }

    /// How many requests a decision stands for: the aggregated count, or one.
    public var requests: Int { refusals?.count ?? 1 }

    enum CodingKeys: String, CodingKey {
        case id, client, vendor, method, path, decision, reason, rule, policy, findings, status, refusals
        case candidate
        case category, direction
        case requestBytes = "request_bytes"
        case forwardedBytes = "forwarded_bytes"
        case forwardedSHA256 = "forwarded_sha256"
        case durationMs = "duration_ms"
    }
}
