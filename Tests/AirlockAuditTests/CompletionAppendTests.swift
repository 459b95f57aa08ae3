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
        let receipts = await withTaskGroup(of: Result<Void, AuditError>.self) { group in
            for number in 1...count {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Array("body \(number)".utf8).withUnsafeBytes { body in
                            log.recordDecision(sampleDecision(number), forwardedBodyBytes: body) {
                                continuation.resume(returning: $0)
                            }
                        }
                    }
                }
            }
            var all: [Result<Void, AuditError>] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(receipts.count == count)
        for receipt in receipts { _ = try receipt.get() }
        let afterDecisions = log.statistics
        #expect(afterDecisions.records == count)
        #expect(afterDecisions.bodiesStored == count)

        // An outcome alone does not wake the writer; it is committed on its own within the sync delay, and its
        // completion runs once it is durable (the statistics are read on the writer thread, at completion).
        let (written, seen) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(Result<Void, AuditError>, AuditStatistics), Never>) in
            log.recordOutcome(id: "req-1", status: 200, durationMs: 3, error: nil) { result in
                continuation.resume(returning: (result, log.statistics))
            }
        }
        try written.get()
        #expect(seen.records == count + 1)
        #expect(seen.logSyncs == afterDecisions.logSyncs + 1)

        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub], checkBodies: true)
        #expect(summary.decisions == count)
        #expect(summary.outcomes == 1)
    }

    @Test func outcomesRideTheNextDecisionsCommit() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        // Long enough that the outcome can only be committed by the decision that follows it.
        log.setLazyDelayForTesting(.seconds(30))
        let before = log.statistics
        async let outcome: (Result<Void, AuditError>, AuditStatistics) = withCheckedContinuation { continuation in
            log.recordOutcome(id: "req-0", status: 200, durationMs: 1, error: nil) { result in
                continuation.resume(returning: (result, log.statistics))
            }
        }
        // Still queued: nothing woke the writer for it.
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.statistics == before)
        let receipt = try await log.recordDecision(sampleDecision(1), forwardedBody: Array("body".utf8))
        let (written, seen) = await outcome
        try written.get()
        // One write and one fsync carried both; the outcome came first in the chain.
        #expect(seen.records == before.records + 2)
        #expect(seen.logSyncs == before.logSyncs + 1)
        #expect(receipt.seq == 2)
        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [], checkBodies: true)
        #expect(summary.decisions == 1)
        #expect(summary.outcomes == 1)
    }

    @Test func refusedAppendsCompleteWithTheReason() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        let missingID = await withCheckedContinuation { continuation in
            log.recordDecision(sampleDecision(1).with(id: ""), forwardedBodyBytes: nil) {
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
