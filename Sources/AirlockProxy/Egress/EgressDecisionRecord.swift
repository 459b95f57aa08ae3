import AirlockAudit
import Foundation
import NIOHTTP1

/// One decision about one request, written before anything is forwarded.
public struct EgressDecisionRecord: Sendable {
    public enum Decision: String, Sendable {
        case forwarded
        case blocked
        case error
    }

    public var requestID: String
    public var vendor: String
    public var method: HTTPMethod
    /// The path as forwarded (after inspection). For refusals: the policy's redaction of it when the policy got
    /// that far, a callback's configured path, or ``withheldPath``; never the path as received, which can carry the
    /// very value that was blocked. Never the query string.
    public var path: String
    /// Recorded for a refused request whose path no policy has redacted.
    public static let withheldPath = "(withheld: not inspected)"
    public var client: EgressClient
    public var decision: Decision
    /// Refusal code (`route_not_allowed`, `blocked_by_policy`, …) or nil when forwarded.
    public var reason: String?
    public var rule: String?
    /// The kind of reason (``RefusalCause/category``; `allowed` when forwarded).
    public var category: ReasonCategory
    /// A request of the lab to a vendor, or a vendor's callback into the lab.
    public var direction: AuditDirection
    /// Body bytes received from the lab.
    public var requestBytes: Int
    /// The request exactly as it will be sent, when forwarded.
    public var forwarded: EgressRequest?
    /// For refusals: what the policy found (forwarded requests carry theirs in `forwarded.inspection`).
    public var inspection: EgressInspection?
    /// For refusals: the status the lab is answered with.
    public var status: Int?
    /// Set when the record stands for several refusals made before any policy saw the requests (see
    /// ``RefusalAggregator``): how many, and when the first and last of them were answered.
    public var aggregated: AggregatedRefusals?

    /// Several early refusals of one kind from one client, written as one record.
    public struct AggregatedRefusals: Sendable {
        public var count: Int
        public var first: Date
        public var last: Date

        public init(count: Int, first: Date, last: Date) {
            self.count = count
            self.first = first
            self.last = last
        }
    }

    public init(
        requestID: String,
        vendor: String,
        method: HTTPMethod,
        path: String,
        client: EgressClient,
        decision: Decision,
        reason: String?,
        rule: String?,
        category: ReasonCategory,
        direction: AuditDirection,
        requestBytes: Int,
        forwarded: EgressRequest?,
        inspection: EgressInspection? = nil,
        status: Int? = nil,
        aggregated: AggregatedRefusals? = nil
    ) {
        self.aggregated = aggregated
        self.inspection = inspection
        self.status = status
        self.requestID = requestID
        self.vendor = vendor
        self.method = method
        self.path = path
        self.client = client
        self.decision = decision
        self.reason = reason
        self.rule = rule
        self.category = category
        self.direction = direction
        self.requestBytes = requestBytes
        self.forwarded = forwarded
    }
}
