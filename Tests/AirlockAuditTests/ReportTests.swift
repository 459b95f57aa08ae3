import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

@Suite("Audit log: reviewing (filters and stats)")
struct ReportTests {
    static func makeLog() async throws -> Scratch {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        let mtls = AuditClient(ip: "10.0.0.7", subject: "CN=labeling-bot,O=Lab")
        _ = try await log.recordDecision(
            sampleDecision(1, vendor: "scale", findings: [AuditFinding(id: "email", action: "pseudonymise", count: 2)]),
            forwardedBody: Array("aaaa".utf8)
        )
        try await log.recordOutcome(id: "req-1", status: 200, durationMs: 40, error: nil)
        _ = try await log.recordDecision(
            sampleDecision(2, vendor: "scale", decision: .blocked, rule: "roadmap"),
            forwardedBody: nil
        )
        _ = try await log.recordDecision(
            sampleDecision(
                3,
                vendor: "labelbox",
                client: mtls,
                findings: [AuditFinding(id: "email", action: "pseudonymise", count: 1)]
            ),
            forwardedBody: Array("bbbbbbbb".utf8)
        )
        try await log.recordOutcome(id: "req-3", status: 502, durationMs: 10, error: "upstream reset")
        _ = try await log.recordDecision(sampleDecision(4, vendor: "labelbox", decision: .error), forwardedBody: nil)
        try await log.close()
        return scratch
    }

    @Test func filtersSelectDecisionsAndMergeOutcomes() async throws {
        let scratch = try await Self.makeLog()
        let reader = AuditLogReader(directory: scratch.audit)
        #expect(try reader.decisions().map(\.id) == ["req-1", "req-2", "req-3", "req-4"])
        #expect(try reader.decisions(matching: AuditQuery(vendor: "scale")).map(\.id) == ["req-1", "req-2"])
        #expect(try reader.decisions(matching: AuditQuery(decision: .blocked)).map(\.id) == ["req-2"])
        #expect(try reader.decisions(matching: AuditQuery(rule: "email")).map(\.id) == ["req-1", "req-3"])
        #expect(try reader.decisions(matching: AuditQuery(rule: "roadmap")).map(\.id) == ["req-2"])
        #expect(try reader.decisions(matching: AuditQuery(client: "10.0.0.7")).map(\.id) == ["req-3"])
        #expect(try reader.decisions(matching: AuditQuery(client: "labeling-bot")).map(\.id) == ["req-3"])
        let third = try reader.decisions(matching: AuditQuery(vendor: "labelbox", decision: .forwarded))
        #expect(third.first?.status == 502 && third.first?.error == "upstream reset")
        let all = try reader.decisions()
        let exactly = try #require(RFC3339.parse(all[2].time))
        #expect(try reader.decisions(matching: AuditQuery(since: exactly, until: exactly)).map(\.id).contains("req-3"))
        let future = try #require(RFC3339.parse("2999-01-01T00:00:00Z"))
        #expect(try reader.decisions(matching: AuditQuery(since: future)).isEmpty)
        #expect(try reader.decisions(matching: AuditQuery(until: future)).count == 4)
        #expect(try reader.decisions(matching: AuditQuery(until: RFC3339.parse("2000-01-01"))).isEmpty)
    }

    @Test func statsCountRequestsAndBytes() async throws {
        let scratch = try await Self.makeLog()
        let stats = AuditStats(try AuditLogReader(directory: scratch.audit).decisions())
        #expect(
            stats.total.requests == 4 && stats.total.forwarded == 2 && stats.total.blocked == 1
                && stats.total.error == 1
        )
        #expect(stats.total.forwardedBytes == 12)
        #expect(stats.byVendor["scale"]?.requests == 2 && stats.byVendor["scale"]?.forwardedBytes == 4)
        #expect(stats.byVendor["labelbox"]?.forwardedBytes == 8)
        #expect(stats.byDecision["blocked"]?.requests == 1)
        #expect(
            stats.byRule["email"]
                == AuditStats.RuleBucket(requests: 2, matches: 3, blocked: 0, actions: ["pseudonymise": 3])
        )
        #expect(stats.byRule["roadmap"]?.blocked == 1)
    }

    /// The proxy writes refusals made before any policy saw them as one record per kind and client a second, with
    /// a count and a window: the record verifies like any other, and stats count the requests it stands for.
    @Test func aggregatedRefusalsVerifyAndCountAsTheirRequests() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(sampleDecision(1, vendor: "scale"), forwardedBody: Array("aaaa".utf8))
        let window = RefusalWindow(count: 998, first: "2026-12-07T10:00:00.000Z", last: "2026-12-07T10:00:00.999Z")
        var aggregated = DecisionRecord(
            id: "r-refusals-1",
            client: AuditClient(ip: "10.0.0.9"),
            vendor: "scale",
            method: "GET",
            path: "(withheld: not inspected)",
            decision: .blocked,
            reason: "route_not_allowed",
            policy: "none",
            requestBytes: 0,
            status: 403
        )
        aggregated.refusals = window
        _ = try await log.recordDecision(aggregated, forwardedBody: nil)
        _ = try await log.recordDecision(
            sampleDecision(2, vendor: "scale", decision: .blocked, rule: "roadmap"),
            forwardedBody: nil
        )
        try await log.close()

        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 3)
        let rows = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(rows.map(\.refusals) == [nil, window, nil])
        #expect(rows.map(\.requests) == [1, 998, 1])
        let line = try readLines(scratch.file(1)).first { $0.contains("r-refusals-1") } ?? ""
        #expect(line.contains(#""refusals":{"count":998,"first":"2026-12-07T10:00:00.000Z","last":"#), "\(line)")
        let stats = AuditStats(rows)
        #expect(stats.total.requests == 1000 && stats.total.blocked == 999 && stats.total.forwarded == 1)
        #expect(stats.byVendor["scale"]?.requests == 1000)
        #expect(stats.byDecision["blocked"]?.requests == 999)
    }
}
