import Foundation
import NIOCore
import NIOHTTP1

/// THE SEAM where the audit log plugs into the proxy.
///
/// The proxy calls the promise-based forms. `recordDecision` completes before the first byte goes to the vendor: if
/// it fails, the lab gets 503 `audit_unavailable` and nothing leaves. `recordOutcome` follows once the exchange is
/// over; a failure there is logged (the request has already left, so there is nothing left to hold back).
public protocol EgressRecorder: Sendable {
    func recordDecision(_ record: EgressDecisionRecord) async throws
    func recordOutcome(_ record: EgressOutcomeRecord) async throws
    /// True only for a recorder that records nothing; lets the proxy skip the async hop entirely.
    var isPassThrough: Bool { get }

    /// Records `record` and succeeds `promise` once it is durable, or fails it. Called on the event loop; must not
    /// block it. The default awaits the async `recordDecision` on the proxy's seam threads; a recorder that can
    /// complete the promise from its own thread overrides it and saves the hops.
    func recordDecision(_ record: EgressDecisionRecord, completing promise: EventLoopPromise<Void>)

    /// Records `record` (it need not be durable yet: nothing waits for an outcome) and reports only a failure, to
    /// `onFailure`, from any thread (it must be quick). Called on the event loop, which it must not block. The
    /// default awaits the async `recordOutcome` on the proxy's seam threads.
    func recordOutcome(_ record: EgressOutcomeRecord, onFailure: @escaping @Sendable (any Error) -> Void)

    /// Why the recorder cannot take decisions right now (e.g. the audit disk is nearly full), or nil when it can.
    /// `/readyz` reports it; decisions fail meanwhile (so requests are refused 503, nothing forwarded). Read per
    /// readiness probe and per aggregated-refusal flush, never per request: must be cheap.
    var unavailableReason: String? { get }
}

extension EgressRecorder {
    public var isPassThrough: Bool { false }
    public var unavailableReason: String? { nil }

    public func recordDecision(_ record: EgressDecisionRecord, completing promise: EventLoopPromise<Void>) {
        Task(executorPreference: SeamExecutor.shared) {
            do {
                promise.succeed(try await self.recordDecision(record))
            } catch {
                promise.fail(error)
            }
        }
    }

    public func recordOutcome(_ record: EgressOutcomeRecord, onFailure: @escaping @Sendable (any Error) -> Void) {
        Task(executorPreference: SeamExecutor.shared) {
            do {
                try await self.recordOutcome(record)
            } catch {
                onFailure(error)
            }
        }
    }

}

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
        self.requestBytes = requestBytes
        self.forwarded = forwarded
    }
}

/// How a forwarded request ended.
public struct EgressOutcomeRecord: Sendable {
    public var requestID: String
    public var vendor: String
    /// The vendor's status, or nil when no response came (then `error` says why).
    public var vendorStatus: Int?
    public var error: String?
    public var durationNanoseconds: Int64
    public var responseBytes: Int

    public init(
        requestID: String,
        vendor: String,
        vendorStatus: Int?,
        error: String?,
        durationNanoseconds: Int64,
        responseBytes: Int
    ) {
        self.requestID = requestID
        self.vendor = vendor
        self.vendorStatus = vendorStatus
        self.error = error
        self.durationNanoseconds = durationNanoseconds
        self.responseBytes = responseBytes
    }
}

/// Records nothing. The default until an audit log is configured.
public struct NoOpRecorder: EgressRecorder {
    public init() {}
    public func recordDecision(_ record: EgressDecisionRecord) async throws {}
    public func recordOutcome(_ record: EgressOutcomeRecord) async throws {}
    public var isPassThrough: Bool { true }
}
