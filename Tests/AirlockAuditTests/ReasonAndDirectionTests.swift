import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

@Suite("Audit log: reason categories, directions, and several logs read as one")
struct ReasonAndDirectionTests {
    static func decision(
        _ number: Int,
        _ category: ReasonCategory?,
        _ direction: AuditDirection?,
        reason: String? = nil,
        rule: String? = nil
    ) -> DecisionRecord {
        var record = sampleDecision(number, decision: category == .allowed ? .forwarded : .blocked, rule: rule)
        record.reason = reason
        record.category = category
        record.direction = direction
        return record
    }

    /// New records carry their category and direction, read back and verify; a record written before they existed
    /// (no such members: the previous writer's exact bytes, chain recomputed as that writer computed it) still
    /// reads, with neither, and still verifies.
    @Test func categoriesAndDirectionsAreRecordedAndOlderRecordsStillVerify() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(Self.decision(1, .allowed, .egress), forwardedBody: Array("a".utf8))
        _ = try await log.recordDecision(
            Self.decision(2, .policyBlock, .egress, reason: "blocked_by_policy", rule: "roadmap"),
            forwardedBody: nil
        )
        _ = try await log.recordDecision(
            Self.decision(3, .unauthenticated, .inbound, reason: "callback_unauthorized"),
            forwardedBody: nil
        )
        try await log.close()
        let rows = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(rows.map(\.category) == [.allowed, .policyBlock, .unauthenticated])
        #expect(rows.map(\.direction) == [.egress, .egress, .inbound])
        #expect(try AuditVerifier.verify(directory: scratch.audit, publicKeys: []).records > 0)

        // The same log as the writer before categories wrote it: the members absent, the chain as it was sealed.
        var lines = try readLines(scratch.file(1))
        let decisionLine = try #require(lines.firstIndex { $0.contains(#""id":"req-2""#) })
        for index in lines.indices where lines[index].hasPrefix(#"{"event":"decision""#) {
            lines[index] = lines[index].replacingOccurrences(
                of: #","category":"[a-z_]+","direction":"[a-z]+""#,
                with: "",
                options: .regularExpression
            )
        }
        #expect(!lines[decisionLine].contains("category") && !lines[decisionLine].contains("direction"))
        resealChain(&lines, from: 0)
        try writeLines(lines, to: scratch.file(1))
        let older = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(older.map(\.id) == ["req-1", "req-2", "req-3"])
        #expect(older.allSatisfy { $0.category == nil && $0.direction == nil && $0.effectiveDirection == .egress })
        #expect(try AuditVerifier.verify(directory: scratch.audit, publicKeys: []).records > 0)
        #expect(DecisionColumns.reason(older[1]) == "blocked_by_policy", "an older record shows its reason code")
    }

    /// Removing (or changing) the category of a new record is an edit the chain catches, like any other.
    @Test func aStrippedCategoryIsAnEdit() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(
            Self.decision(1, .limit, .egress, reason: "body_too_large"),
            forwardedBody: nil
        )
        _ = try await log.recordDecision(Self.decision(2, .allowed, .egress), forwardedBody: nil)
        try await log.close()
        var lines = try readLines(scratch.file(1))
        lines[0] = lines[0].replacingOccurrences(of: #""category":"limit""#, with: #""category":"allowed""#)
        try writeLines(lines, to: scratch.file(1))
        #expect(throws: AuditVerificationFailure.self) {
            try AuditVerifier.verify(directory: scratch.audit, publicKeys: [])
        }
    }

    @Test func filtersByReasonAndDirectionAndStatsCountCallbacksApart() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(Self.decision(1, .allowed, .egress), forwardedBody: Array("abc".utf8))
        _ = try await log.recordDecision(
            Self.decision(2, .limit, .egress, reason: "body_too_large"),
            forwardedBody: nil
        )
        _ = try await log.recordDecision(Self.decision(3, .allowed, .inbound), forwardedBody: Array("cb".utf8))
        _ = try await log.recordDecision(
            Self.decision(4, .unauthenticated, .inbound, reason: "callback_unauthorized"),
            forwardedBody: nil
        )
        // Written before directions were recorded: counted as egress.
        _ = try await log.recordDecision(Self.decision(5, nil, nil, reason: "route_not_allowed"), forwardedBody: nil)
        try await log.close()
        let reader = AuditLogReader(directory: scratch.audit)
        #expect(try reader.decisions(matching: AuditQuery(direction: .inbound)).map(\.id) == ["req-3", "req-4"])
        #expect(
            try reader.decisions(matching: AuditQuery(direction: .egress)).map(\.id) == ["req-1", "req-2", "req-5"]
        )
        #expect(try reader.decisions(matching: AuditQuery(reason: "limit")).map(\.id) == ["req-2"])
        #expect(try reader.decisions(matching: AuditQuery(reason: "body_too_large")).map(\.id) == ["req-2"])
        #expect(try reader.decisions(matching: AuditQuery(reason: "route_not_allowed")).map(\.id) == ["req-5"])

        let stats = AuditStats(try reader.decisions())
        #expect(stats.total.requests == 3 && stats.total.forwarded == 1)
        #expect(stats.inbound.requests == 2 && stats.inbound.forwarded == 1 && stats.inbound.blocked == 1)
        #expect(stats.inboundByVendor["scale"]?.requests == 2)
        #expect(stats.byVendor["scale"]?.requests == 3)
        #expect(stats.byReason["limit"]?.requests == 1 && stats.byReason["allowed"]?.requests == 1)
    }

    @Test func relativeAndAbsoluteTimes() throws {
        let now = try #require(RFC3339.parse("2026-12-07T12:00:00Z"))
        #expect(AuditTime.parse("24h", now: now) == RFC3339.parse("2026-12-06T12:00:00Z"))
        #expect(AuditTime.parse("7d", now: now) == RFC3339.parse("2026-11-30T12:00:00Z"))
        #expect(AuditTime.parse("30m", now: now) == RFC3339.parse("2026-12-07T11:30:00Z"))
        #expect(AuditTime.parse("45s", now: now) == RFC3339.parse("2026-12-07T11:59:15Z"))
        #expect(AuditTime.parse("2w", now: now) == RFC3339.parse("2026-11-23T12:00:00Z"))
        #expect(AuditTime.parse("2026-11-26T09:00:00Z", now: now) == RFC3339.parse("2026-11-26T09:00:00Z"))
        #expect(AuditTime.parse("2026-11-26", now: now) == RFC3339.parse("2026-11-26T00:00:00Z"))
        for bad in ["24", "h", "-5h", "+5h", "1.5h", "5x", " 5h", "5 h", "٣h", "9999999999h", ""] {
            #expect(AuditTime.parse(bad, now: now) == nil, "\(bad)")
        }
    }

    /// Cells a spreadsheet would run as a formula are prefixed; quoting follows RFC 4180.
    @Test func csvCellsAreQuotedAndCannotBeFormulas() {
        #expect(CSVRow.cell("plain") == "plain")
        #expect(CSVRow.cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSVRow.cell("+1") == "'+1")
        #expect(CSVRow.cell("-2+3") == "'-2+3")
        #expect(CSVRow.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVRow.cell("\tcmd") == "'\tcmd")
        #expect(CSVRow.cell("\r\n=1") == "\"'\r\n=1\"")
        #expect(CSVRow.cell("a,b") == "\"a,b\"")
        #expect(CSVRow.cell("line\nbreak") == "\"line\nbreak\"")
        #expect(CSVRow.cell(" padded") == "\" padded\"")
        #expect(CSVRow.line(["a", nil, "=b"]) == "a,,'=b")
    }

    /// Two replicas' logs: one list by time, each log's own order kept, and each decision's source known.
    @Test func severalDirectoriesMergeByTime() async throws {
        let first = try Scratch()
        let second = try Scratch()
        let logA = try await AuditLog.open(first.configuration())
        let logB = try await AuditLog.open(second.configuration())
        _ = try await logA.recordDecision(sampleDecision(1), forwardedBody: nil)
        try await Task.sleep(for: .milliseconds(5))
        _ = try await logB.recordDecision(sampleDecision(2), forwardedBody: nil)
        try await Task.sleep(for: .milliseconds(5))
        _ = try await logA.recordDecision(sampleDecision(3), forwardedBody: nil)
        try await logB.recordOutcome(id: "req-2", status: 201, durationMs: 3, error: nil)
        try await Task.sleep(for: .milliseconds(5))
        _ = try await logB.recordDecision(sampleDecision(4), forwardedBody: nil)
        try await logA.close()
        try await logB.close()
        let merged = MergedAuditReader(directories: [first.audit, second.audit])
        let sourced = try merged.sourcedDecisions()
        #expect(sourced.map(\.entry.id) == ["req-1", "req-2", "req-3", "req-4"])
        #expect(sourced.map(\.source) == [0, 1, 0, 1])
        #expect(sourced[1].entry.status == 201, "outcomes complete their decision within each log")
        #expect(try merged.decisions(matching: AuditQuery(until: RFC3339.parse(sourced[1].entry.time))).count == 2)
        // Lists whose times tie or step back keep their own order.
        func entry(_ id: String, _ time: String) -> AuditEntry {
            AuditEntry(event: .decision, seq: 1, time: time, id: id, prev: "", hash: "")
        }
        let merge = MergedAuditReader.merge([
            [entry("a1", "2026-01-01T00:00:02.000Z"), entry("a2", "2026-01-01T00:00:01.000Z")],
            [entry("b1", "2026-01-01T00:00:02.000Z")],
        ])
        #expect(merge.map(\.entry.id) == ["a1", "a2", "b1"])
    }
}
