/// One line of the log as read back: a decision, an outcome, a checkpoint or a recovery event. Fields that do not
/// belong to the line's event are nil.
public struct AuditEntry: Sendable, Codable, Equatable {
    public enum Event: String, Sendable, Codable {
        case decision, outcome, checkpoint, recovery
    }

    public var event: Event
    public var seq: Int
    public var time: String
    /// The Airlock replica that wrote the line (`replica_id`); nil in logs written before replica ids.
    public var replica: String?

    // decision and outcome
    public var id: String?
    public var client: AuditClient?
    public var vendor: String?
    public var method: String?
    public var path: String?
    public var decision: AuditDecision?
    public var reason: String?
    public var rule: String?
    /// The kind of `reason` (nil in records written before categories were recorded).
    public var category: ReasonCategory?
    /// Egress or an inbound callback (nil in records written before directions were recorded).
    public var direction: AuditDirection?
    public var policy: String?
    public var findings: [AuditFinding]?
    public var requestBytes: Int?
    public var forwardedBytes: Int?
    public var forwardedSHA256: String?
    /// Where the forwarded body is stored (`pack-NNNNNN.gz:OFFSET:LENGTH` under `bodies/`), when it is.
    public var body: String?
    public var status: Int?
    public var durationMs: Double?
    public var error: String?
    /// A decision standing for several refusals: how many, and when the first and last were refused.
    public var refusals: RefusalWindow?
    /// Where the vendor's candidate policy would have decided differently.
    public var candidate: CandidateDifference?

    // checkpoint
    public var head: String?
    public var count: Int?
    public var keyID: String?
    public var signature: String?

    // recovery
    public var afterSeq: Int?
    public var tornBytes: Int?
    public var tornSHA256: String?
    public var kept: String?

    // chain
    public var prev: String
    public var hash: String

    /// How many requests a decision stands for: its aggregated refusal count, or one.
    public var requests: Int { refusals?.count ?? 1 }

    /// The recorded direction; egress for records written before directions were recorded.
    public var effectiveDirection: AuditDirection { direction ?? .egress }

    enum CodingKeys: String, CodingKey {
        case event, seq, time, replica, id, client, vendor, method, path, decision, reason, rule, policy, findings,
            status, error
        case head, count, signature, kept, prev, hash, body, refusals, category, direction
        case candidate
        case requestBytes = "request_bytes"
        case forwardedBytes = "forwarded_bytes"
        case forwardedSHA256 = "forwarded_sha256"
        case durationMs = "duration_ms"
        case keyID = "key_id"
        case afterSeq = "after_seq"
        case tornBytes = "torn_bytes"
        case tornSHA256 = "torn_sha256"
    }
}
