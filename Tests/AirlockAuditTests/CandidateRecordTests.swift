import Foundation
import Testing

@testable import AirlockAudit

/// Decision records with a candidate policy's difference and report-mode findings: written canonically (the log
/// still verifies), read back, and summarised by `CandidateStats`.
@Suite("Audit log: candidate differences and report-mode findings")
struct CandidateRecordTests {
    @Test func candidateDifferencesAndReportFindingsVerifyAndAreSummarised() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        let blocking = CandidateDifference(
            policy: "lab-next@sha256:ab",
            decision: "blocked",
            rule: "roadmap",
            findings: [
                .init(id: "roadmap", action: "block", enforced: 0, candidate: 1, paths: ["$.CODENAME_7QK2M.plan"]),
                .init(id: "email", action: "redact", enforced: 2, candidate: 0, paths: ["$.owner"]),
            ]
        )
        var first = sampleDecision(1, findings: [AuditFinding(id: "runs", action: "redact", count: 1, mode: "report")])
        first.candidate = blocking
        var second = sampleDecision(2)
        second.candidate = CandidateDifference(
            policy: "lab-next@sha256:ab",
            decision: "forwarded",
            findings: [.init(id: "email", action: "redact", enforced: 1, candidate: 0)]
        )
        var third = sampleDecision(3)
        third.candidate = blocking
        for record in [first, second, third, sampleDecision(4)] {
            _ = try await log.recordDecision(record, forwardedBody: Array("{}".utf8))
        }
        try await log.close()

        _ = try AuditVerifier.verify(directory: scratch.audit)
        let decisions = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(decisions.map(\.candidate) == [blocking, second.candidate, blocking, nil])
        #expect(decisions.first?.findings?.first?.mode == "report")
        #expect(decisions.last?.findings?.allSatisfy { $0.mode == nil } ?? true)

        let stats = CandidateStats(decisions)
        #expect(stats.decisions == 4 && stats.differing == 3 && stats.wouldBlock == 2 && stats.wouldForward == 0)
        #expect(stats.policies == ["lab-next@sha256:ab"])
        let roadmap = try #require(stats.byRule["roadmap"])
        #expect(roadmap.wouldBlock == 2 && roadmap.added == 2 && roadmap.requestsWithMore == 2)
        #expect(roadmap.examples == ["req-1", "req-3"])
        let email = try #require(stats.byRule["email"])
        #expect(email.requestsWithFewer == 3 && email.removed == 5 && email.examples == ["req-1", "req-2", "req-3"])
    }

    @Test func anEditedCandidateMemberBreaksTheChain() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        var record = sampleDecision(1)
        record.candidate = CandidateDifference(policy: "lab-next@sha256:ab", decision: "blocked", rule: "roadmap")
        _ = try await log.recordDecision(record, forwardedBody: nil)
        try await log.close()
        let file = scratch.audit.appendingPathComponent("audit-000001.jsonl")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: #""decision":"blocked""#, with: #""decision":"forwarded""#).write(
            to: file,
            atomically: true,
            encoding: .utf8
        )
        #expect(throws: AuditVerificationFailure.self) { try AuditVerifier.verify(directory: scratch.audit) }
    }
}
