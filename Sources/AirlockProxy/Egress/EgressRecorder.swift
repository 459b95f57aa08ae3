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
