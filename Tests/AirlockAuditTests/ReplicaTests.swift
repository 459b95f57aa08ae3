import Foundation
import Testing

@testable import AirlockAudit

/// Every line a replica writes names it (`"replica"`), so the logs of several replicas stay attributable once
/// shipped together; the id is part of what each line's hash covers.
struct ReplicaTests {
    @Test func everyLineNamesItsReplicaAndTheChainVerifies() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        var configuration = scratch.configuration(key: keys.key, checkpointEvery: 3)
        configuration.replica = "airlock-b"
        let log = try await AuditLog.open(configuration)
        for number in 1...4 {
            _ = try await log.recordDecision(sampleDecision(number), forwardedBody: Array("body \(number)".utf8))
            try await log.recordOutcome(id: "req-\(number)", status: 200, durationMs: 1, error: nil)
        }
        try await log.close()
        let entries = try AuditLogReader(directory: scratch.audit).entries()
        #expect(Set(entries.map(\.event)) == [.decision, .outcome, .checkpoint])
        #expect(entries.allSatisfy { $0.replica == "airlock-b" }, "\(entries.map(\.replica))")
        let text = String(decoding: try Data(contentsOf: scratch.file(1)), as: UTF8.self)
        #expect(
            text.split(separator: "\n").allSatisfy {
                $0.contains(#""time":"#) && $0.contains(#","replica":"airlock-b","#)
            }
        )
        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        #expect(summary.decisions == 4)

        // A line moved to another replica's name no longer verifies.
        let original = #""replica":"airlock-b","id":"req-1""#
        let first = try #require(text.range(of: original))
        let edited = text.replacingCharacters(in: first, with: #""replica":"airlock-a","id":"req-1""#)
        #expect(edited != text)
        try edited.write(to: scratch.file(1), atomically: true, encoding: .utf8)
        expectFailure(scratch.audit, publicKeys: [keys.pub], kind: .edited, seq: 1)
    }

    /// Logs written before replica ids (and logs of a replica without one) have no `replica` member and still verify.
    @Test func aLogWithoutReplicaHasNoReplicaMember() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: nil)
        try await log.close()
        let text = String(decoding: try Data(contentsOf: scratch.file(1)), as: UTF8.self)
        #expect(!text.contains("replica"))
        _ = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [])
    }
}
