import AirlockAudit
import NIOCore
import Synchronization

/// The egress audit log at the proxy's recording seam.
///
/// A decision is durable (fsync'd, with the forwarded body when bodies are stored) before the proxy sends the first
/// byte to the vendor; if the log cannot be written, `recordDecision` throws and the proxy answers 503 with nothing
/// forwarded. Only the path as forwarded, the proxy's own reason codes, rule ids, counts and JSONPaths are recorded.
///
/// With a space guard, decisions fail at once (nothing forwarded, 503 `audit_unavailable`) while the guard says the
/// audit disk is nearly full; outcomes of requests that already left are still written.
public struct AuditRecorder: EgressRecorder {
    public let log: AuditLog
    public let space: AuditSpaceGuard?
    private let mailboxes = CompletionMailboxes()

    public init(log: AuditLog, space: AuditSpaceGuard? = nil) {
        self.log = log
        self.space = space
    }

    public var unavailableReason: String? { self.space?.problem }

    public func recordDecision(_ record: EgressDecisionRecord) async throws {
        if let refusal = self.space?.refusal { throw refusal }
        let body = record.forwarded.map { Array($0.body.readableBytesView) }
        _ = try await self.log.recordDecision(Self.entry(record), forwardedBody: body)
    }

    public func recordDecision(_ record: EgressDecisionRecord, completing promise: EventLoopPromise<Void>) {
        if let refusal = self.space?.refusal {
            promise.fail(refusal)
            return
        }
        // Small bodies are hashed and compressed on the calling event loop (tens of microseconds for a few KB).
        guard SeamRunner.runsOnEventLoop(bodyBytes: record.forwarded?.body.readableBytes ?? 0) else {
            Task(executorPreference: SeamExecutor.shared) { self.submitDecision(record, completing: promise) }
            return
        }
        self.submitDecision(record, completing: promise)
    }

    /// Hashes and compresses the forwarded body on the calling thread, straight from its buffer, and queues the
    /// decision; `promise` completes on its loop once the decision is durable.
    private func submitDecision(_ record: EgressDecisionRecord, completing promise: EventLoopPromise<Void>) {
        // The writer thread hands the result to the promise's loop in one hop, shared with the rest of its batch.
        let mailbox = self.mailboxes.mailbox(for: promise.futureResult.eventLoop)
        let completion: @Sendable (Result<Void, AuditError>) -> Void = { result in
            mailbox.complete(promise, with: result)
        }
        let entry = Self.entry(record)
        guard let forwarded = record.forwarded else {
            self.log.recordDecision(entry, forwardedBodyBytes: nil, completion: completion)
            return
        }
        // Hashed and compressed straight from the buffer: no copy of the body.
        forwarded.body.withUnsafeReadableBytes { bytes in
            self.log.recordDecision(entry, forwardedBodyBytes: bytes, completion: completion)
        }
    }

    public func recordOutcome(_ record: EgressOutcomeRecord) async throws {
        try await self.log.recordOutcome(
            id: record.requestID,
            status: record.vendorStatus,
            durationMs: Double(record.durationNanoseconds) / 1_000_000,
            error: record.error
        )
    }

    /// The outcome rides the log's next group commit: nothing waits for it to be durable (the request has left),
    /// and only a failure is reported, from the writer thread: no hop back to the event loop per request.
    public func recordOutcome(_ record: EgressOutcomeRecord, onFailure: @escaping @Sendable (any Error) -> Void) {
        self.log.recordOutcome(
            id: record.requestID,
            status: record.vendorStatus,
            durationMs: Double(record.durationNanoseconds) / 1_000_000,
            error: record.error
        ) { result in
            if case .failure(let error) = result { onFailure(error) }
        }
    }

    private static func entry(_ record: EgressDecisionRecord) -> DecisionRecord {
        let inspection = record.forwarded?.inspection ?? record.inspection
        let decision: AuditDecision
        switch record.decision {
        case .forwarded: decision = .forwarded
        case .blocked: decision = .blocked
        case .error: decision = .error
        }
        return DecisionRecord(
            id: record.requestID,
            client: AuditClient(
                ip: record.client.address ?? "unknown",
                subject: record.client.certificateCommonName,
                name: record.client.name
            ),
            vendor: record.vendor,
            method: record.method.rawValue,
            path: record.path,
            decision: decision,
            reason: record.reason,
            rule: record.rule,
            policy: inspection?.policy ?? "none",
            findings: (inspection?.findings ?? []).map {
                AuditFinding(id: $0.rule, action: $0.action, count: $0.count, paths: $0.paths, mode: $0.mode?.rawValue)
            },
            requestBytes: record.requestBytes,
            status: record.status,
            refusals: record.aggregated.map { RefusalWindow(count: $0.count, first: $0.first, last: $0.last) },
            candidate: inspection?.candidate,
            category: record.category,
            direction: record.direction
        )
    }
}

/// One ``CompletionMailbox`` per event loop, made on first use.
private final class CompletionMailboxes: Sendable {
    private let byLoop = Mutex<[ObjectIdentifier: CompletionMailbox]>([:])

    func mailbox(for loop: any EventLoop) -> CompletionMailbox {
        self.byLoop.withLock { byLoop in
            let key = ObjectIdentifier(loop)
            if let mailbox = byLoop[key] { return mailbox }
            let mailbox = CompletionMailbox(loop: loop)
            byLoop[key] = mailbox
            return mailbox
        }
    }
}

/// Completes promises of one event loop in batches. The audit writer finishes a group commit of many requests at
/// once; completing each promise from the writer thread would schedule one task on its loop per request. Here the
/// first result queued schedules one task, which completes everything queued for the loop by the time it runs.
///
/// `complete` may be called from any thread; the promises are completed on `loop`, in the order they were queued.
private final class CompletionMailbox: Sendable {
    private let loop: any EventLoop
    private let queued = Mutex<[(EventLoopPromise<Void>, Result<Void, AuditError>)]>([])

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func complete(_ promise: EventLoopPromise<Void>, with result: Result<Void, AuditError>) {
        let first = self.queued.withLock { queued in
            queued.append((promise, result))
            return queued.count == 1
        }
        if first {
            self.loop.execute { self.drain() }
        }
    }

    private func drain() {
        let batch = self.queued.withLock { queued in
            var batch: [(EventLoopPromise<Void>, Result<Void, AuditError>)] = []
            swap(&batch, &queued)
            return batch
        }
        for (promise, result) in batch {
            switch result {
            case .success: promise.succeed(())
            case .failure(let error): promise.fail(error)
            }
        }
    }
}
