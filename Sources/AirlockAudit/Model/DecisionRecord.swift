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
        refusals: RefusalWindow? = nil
    ) {
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
    }

    /// How many requests a decision stands for: the aggregated count, or one.
    public var requests: Int { refusals?.count ?? 1 }

    enum CodingKeys: String, CodingKey {
        case id, client, vendor, method, path, decision, reason, rule, policy, findings, status, refusals
        case requestBytes = "request_bytes"
        case forwardedBytes = "forwarded_bytes"
        case forwardedSHA256 = "forwarded_sha256"
        case durationMs = "duration_ms"
    }
}

/// Several refusals of one kind written as one record: their number and the window they fell in (RFC 3339 times as
/// the log writes them). Written as `"refusals":{"count":N,"first":"…","last":"…"}`.
public struct RefusalWindow: Sendable, Codable, Hashable {
    public var count: Int
    public var first: String
    public var last: String

    public init(count: Int, first: String, last: String) {
        self.count = count
        self.first = first
        self.last = last
    }

    /// A window from two instants, in the log's time format.
    public init(count: Int, first: Date, last: Date) {
        self.init(count: count, first: AuditTime.format(first), last: AuditTime.format(last))
    }
}

/// Who sent the request: the peer address, with mutual TLS the verified certificate subject, and with `clients:`
/// the name of the configured client it was recognised as.
public struct AuditClient: Sendable, Codable, Hashable {
    public var ip: String
    public var subject: String?
    public var name: String?

    public init(ip: String, subject: String? = nil, name: String? = nil) {
        self.ip = ip
        self.subject = subject
        self.name = name
    }
}

/// What happened to the request.
public enum AuditDecision: String, Sendable, Codable, CaseIterable {
    case forwarded
    case blocked
    case error
}

/// What one rule found in a request: never the matched value, only where and how often.
public struct AuditFinding: Sendable, Codable, Hashable {
    /// The rule id from the policy.
    public var id: String
    /// The action taken (`redact`, `pseudonymise`, `block`, `allow`, …).
    public var action: String
    public var count: Int
    /// JSONPaths (or other locators) of the matches, e.g. `$.messages[3].content`.
    public var paths: [String]

    public init(id: String, action: String, count: Int, paths: [String] = []) {
        self.id = id
        self.action = action
        self.count = count
        self.paths = paths
    }
}

/// Proof that a decision record is durable: its place in the chain.
public struct AuditReceipt: Sendable, Hashable {
    public var id: String
    public var seq: Int
    /// The record's chain hash (hex SHA-256).
    public var hash: String
    /// SHA-256 (hex) of the forwarded body, when one was given.
    public var forwardedSHA256: String?
    /// RFC 3339 time written in the record.
    public var time: String
}
