import Foundation
import Testing

@testable import AirlockAudit

/// The group-commit window: under concurrent load the writer waits (bounded) for more records so one fsync serves
/// them all; a lone request never waits.
///
/// Windows here are far longer than production's (opened past the 1 s bound): on a loaded CI machine one fsync can
/// take seconds, and a test must not mistake a slow disk for a window waited out, or the reverse. No test measures
/// time: a "never waits" test that waited out `long` would run into the suite's time limit, and waiting out a window
/// shows as one sync carrying the whole group.
@Suite("Audit log: group-commit window", .timeLimit(.minutes(2)))
struct GroupCommitTests {
    /// Waiting this out once would fail every "never waits" test by the time limit; no fsync takes this long.
    static let long = Duration.seconds(600)
    /// Long enough that a group's tasks are all queued before it ends, however loaded the machine.
    static let window = Duration.seconds(3)

    private func open(_ configuration: AuditConfiguration) async throws -> AuditLog {
        try await AuditLog.open(configuration, maximumCommitDelay: Self.long)
    }

    private func configuration(_ scratch: Scratch, delay: Duration, batch: Int = 256) -> AuditConfiguration {
        var configuration = scratch.configuration()
        configuration.commitDelay = delay
        configuration.commitBatch = batch
        return configuration
    }

    private func decide(_ log: AuditLog, _ numbers: ClosedRange<Int>) async throws -> [AuditReceipt] {
        try await withThrowingTaskGroup(of: AuditReceipt.self) { group in
            for number in numbers {
                group.addTask {
                    try await log.recordDecision(sampleDecision(number), forwardedBody: Array("body \(number)".utf8))
                }
            }
            var receipts: [AuditReceipt] = []
            for try await receipt in group { receipts.append(receipt) }
            return receipts
        }
    }

    @Test func aLoneRequestNeverWaitsOutTheWindow() async throws {
        let scratch = try Scratch()
        // A window far longer than any fsync: if a lone request waited it out, it would take a minute.
        let log = try await self.open(configuration(scratch, delay: Self.long))
        for number in 1...5 {
            let before = log.statistics.logSyncs
            _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil)
            #expect(log.statistics.logSyncs == before + 1)
        }
        try await log.close()
        _ = try AuditVerifier.verify(directory: scratch.audit)
    }

    @Test func underLoadOneCommitCarriesTheWholeWindow() async throws {
        let scratch = try Scratch()
        let log = try await self.open(configuration(scratch, delay: Self.window))
        log.setGroupAverageForTesting(50)
        let before = log.statistics
        let receipts = try await decide(log, 1...6)
        // Durable only once the window (counted from the first record) is over: all six in one fsync.
        #expect(receipts.count == 6)
        #expect(Set(receipts.map(\.seq)) == Set(1...6))
        #expect(log.statistics.records == before.records + 6)
        #expect(log.statistics.logSyncs == before.logSyncs + 1)
        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit, checkBodies: true)
        #expect(summary.decisions == 6)
    }

    @Test func theNextGroupGathersWhileTheWriterSleepsOutAWindow() async throws {
        let scratch = try Scratch()
        let log = try await self.open(configuration(scratch, delay: Self.window))
        log.setGroupAverageForTesting(50)
        _ = try await decide(log, 1...6)
        // The writer committed that group and, still under load, sleeps out a window: records arriving meanwhile
        // do not wake it, and all of them are made durable together when the window ends.
        let before = log.statistics
        let receipts = try await decide(log, 7...12)
        #expect(Set(receipts.map(\.seq)) == Set(7...12))
        #expect(log.statistics.logSyncs == before.logSyncs + 1)
        try await log.close()
        #expect(try AuditVerifier.verify(directory: scratch.audit, checkBodies: true).decisions == 12)
    }

    @Test func aFullGroupIsCommittedWithoutWaitingOutTheWindow() async throws {
        let scratch = try Scratch()
        let log = try await self.open(configuration(scratch, delay: Self.long, batch: 4))
        log.setGroupAverageForTesting(50)
        let receipts = try await decide(log, 1...4)
        #expect(receipts.count == 4)
        try await log.close()
        _ = try AuditVerifier.verify(directory: scratch.audit, checkBodies: true)
    }

    @Test func closingDoesNotWaitOutTheWindow() async throws {
        let scratch = try Scratch()
        let log = try await self.open(configuration(scratch, delay: Self.long))
        log.setGroupAverageForTesting(50)
        async let receipt = log.recordDecision(sampleDecision(1), forwardedBody: nil)
        // Let the writer take the record and start waiting out the window.
        try await Task.sleep(for: .milliseconds(50))
        try await log.close()
        #expect(try await receipt.seq == 1)
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 1)
    }

    @Test func theWindowIsBounded() async throws {
        let scratch = try Scratch()
        for delay in [Duration.milliseconds(-1), .seconds(2)] {
            var configuration = scratch.configuration()
            configuration.commitDelay = delay
            await #expect(throws: AuditError.self) { _ = try await AuditLog.open(configuration) }
        }
        var configuration = scratch.configuration()
        configuration.commitBatch = 0
        await #expect(throws: AuditError.self) { _ = try await AuditLog.open(configuration) }
    }
}
