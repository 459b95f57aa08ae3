import Foundation
import Testing

@testable import AirlockAudit

/// The completion-based appends the proxy uses from its event loops (no task, no continuation per request).
@Suite("Audit log: completion-based appends")
struct CompletionAppendTests {
    @Test func decisionsCompleteOnceDurableAndOutcomesRideTheNextCommit() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let log = try await AuditLog.open(scratch.configuration(key: keys.key))
        let count = 40
        let receipts = await withTaskGroup(of: Result<AuditReceipt, AuditError>.self) { group in
            for number in 1...count {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        log.recordDecision(sampleDecision(number), forwardedBody: Array("body \(number)".utf8)) {
                            continuation.resume(returning: $0)
                        }
                    }
                }
            }
            var all: [Result<AuditReceipt, AuditError>] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(receipts.count == count)
        for receipt in receipts { _ = try receipt.get() }
        let afterDecisions = log.statistics
        #expect(afterDecisions.records == count)
        #expect(afterDecisions.bodiesStored == count)

        // An outcome alone is written without an fsync of its own (the statistics are read on the writer thread,
        // before it can run the delayed sync) ...
        let (written, seen) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(Result<Void, AuditError>, AuditStatistics), Never>) in
            log.recordOutcome(id: "req-1", status: 200, durationMs: 3, error: nil) { result in
                continuation.resume(returning: (result, log.statistics))
            }
        }
        try written.get()
        #expect(seen.records == count + 1)
        #expect(seen.logSyncs == afterDecisions.logSyncs)
        // ... and made durable shortly after even when nothing else is appended.
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while log.statistics.logSyncs == seen.logSyncs && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(log.statistics.logSyncs == seen.logSyncs + 1)

        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub], checkBodies: true)
        #expect(summary.decisions == count)
        #expect(summary.outcomes == 1)
    }

    @Test func refusedAppendsCompleteWithTheReason() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        let missingID = await withCheckedContinuation { continuation in
            log.recordDecision(sampleDecision(1).with(id: ""), forwardedBody: nil) {
                continuation.resume(returning: $0)
            }
        }
        #expect(throws: AuditError.self) { try missingID.get() }
        try await log.close()
        let closed = await withCheckedContinuation { continuation in
            log.recordOutcome(id: "req-1", status: nil, durationMs: 1, error: "timeout") {
                continuation.resume(returning: $0)
            }
        }
        #expect(throws: AuditError.self) { try closed.get() }
    }
}

extension DecisionRecord {
    fileprivate func with(id: String) -> DecisionRecord {
        var copy = self
        copy.id = id
        return copy
    }
}
