import AirlockAudit
import AirlockSupport
import Foundation
import Testing

@testable import AirlockReview

/// The index answers every filter as a scan of all records would, on every page.
@Suite("Review console: index, filters, reasons, body marks")
struct ReviewIndexTests {
    static func records() throws -> [SourcedDecision] {
        let template = try JSONDecoder().decode(
            AuditEntry.self,
            from: Data(#"{"event":"decision","seq":1,"time":"2026-11-01T00:00:00.000Z","prev":"","hash":""}"#.utf8)
        )
        let codes: [String?] = [
            nil, nil, nil, "blocked_by_policy", "route_not_allowed", "vendor_timeout", "uninspectable_body",
        ]
        return (0..<700).map { number in
            var entry = template
            entry.seq = number + 1
            entry.time = RFC3339.format(Date(timeIntervalSince1970: 1_793_000_000 + Double(number) * 3600))
            entry.id = "r\(number)"
            entry.vendor = ["scale", "labelbox", "surge"][number % 3]
            entry.client = AuditClient(
                ip: "10.0.0.\(number % 5)",
                subject: number % 11 == 0 ? "CN=pipeline-x" : nil,
                name: "c\(number % 4)"
            )
            let code = codes[number % codes.count]
            entry.reason = code
            entry.decision = code == nil ? .forwarded : code == "vendor_timeout" ? .error : .blocked
            entry.rule = code == "blocked_by_policy" ? "rule-\(number % 3)" : nil
            entry.findings = (0..<(number % 3)).map {
                AuditFinding(id: "rule-\(($0 + number) % 4)", action: "redact", count: 1)
            }
            return SourcedDecision(entry: entry, directory: number % 2)
        }
    }

    static func bruteForce(_ records: [SourcedDecision], _ filter: ReviewFilter) -> [Int] {
        let query = filter.auditQuery
        return records.indices.reversed().filter { position in
            let entry = records[position].entry
            guard !filter.unknownDecision, filter.timeError == nil, query.matches(entry) else { return false }
            if let reason = filter.reason, DecisionReason.of(entry).rawValue != reason { return false }
            if let label = filter.label, !ReviewIndex.labels(of: entry).contains(label) { return false }
            return true
        }
    }

    @Test func everyFilterAndPageMatchesAScan() throws {
        let records = try Self.records()
        let index = ReviewIndex(records)
        let now = Date(timeIntervalSince1970: 1_793_000_000 + 700 * 3600)
        let filters: [[String: String]] = [
            [:], ["vendor": "scale"], ["decision": "blocked"], ["vendor": "labelbox", "decision": "forwarded"],
            ["reason": "policy-block"], ["reason": "not-allowed", "vendor": "surge"], ["rule": "rule-1"],
            ["label": "RULE_2"], ["rule": "rule-0", "label": "RULE_0"], ["client": "c2"], ["client": "pipeline-x"],
            ["client": "10.0.0.3", "decision": "forwarded"], ["since": "7d"], ["since": "3d", "until": "1d"],
            ["since": "2026-11-27", "vendor": "scale"], ["until": "2026-11-26T12:00:00Z", "rule": "rule-3"],
            ["decision": "maybe"], ["since": "yesterday"], ["vendor": "nobody"], ["label": "RULE_1", "since": "10d"],
        ]
        for parameters in filters {
            let filter = ReviewFilter(parameters: parameters, now: now)
            let expected = Self.bruteForce(records, filter)
            #expect(index.all(filter) == expected, "\(parameters)")
            for page in [1, 2, 3, 1000] {
                let selection = index.select(filter, page: page, perPage: 40)
                let pageCount = max(1, (expected.count + 39) / 40)
                let clamped = min(page, pageCount)
                #expect(selection.total == expected.count, "\(parameters)")
                #expect(selection.pageCount == pageCount, "\(parameters)")
                #expect(selection.page == clamped, "\(parameters)")
                #expect(
                    selection.positions == Array(expected.dropFirst((clamped - 1) * 40).prefix(40)),
                    "\(parameters) p\(page)"
                )
            }
        }
    }

    @Test func recordsAreFoundByDirectoryAndIDOnly() throws {
        let index = ReviewIndex(try Self.records())
        #expect(index.record(directory: 1, id: "r1") == 1)
        #expect(index.record(directory: 0, id: "r1") == nil)
        #expect(index.record(directory: 0, id: "../r0") == nil)
    }

    @Test func relativeAndAbsoluteTimes() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RelativeTime.date(from: "24h", now: now) == now.addingTimeInterval(-86_400))
        #expect(RelativeTime.date(from: "7d", now: now) == now.addingTimeInterval(-7 * 86_400))
        #expect(RelativeTime.date(from: "30m", now: now) == now.addingTimeInterval(-1800))
        #expect(RelativeTime.date(from: "2026-11-26", now: now) == RFC3339.parse("2026-11-26"))
        for bad in ["", "h", "-1d", "1y", "1e400d", "nand", "99999999999d"] {
            #expect(RelativeTime.date(from: bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func reasonCategoriesComeFromDecisionCodeAndRule() throws {
        var entry = try Self.records()[0].entry
        let cases: [(AuditDecision, String?, String?, String)] = [
            (.forwarded, nil, nil, "forwarded"), (.blocked, "blocked_by_policy", "codename", "policy-block: codename"),
            (.blocked, nil, "codename", "policy-block: codename"),
            (.error, "uninspectable_body", nil, "uninspectable: uninspectable_body"),
            (.blocked, "route_not_allowed", nil, "not-allowed: route_not_allowed"),
            (.blocked, "client_unauthenticated", nil, "unauthenticated: client_unauthenticated"),
            (.error, "body_too_large", nil, "limit: body_too_large"),
            (.error, "vendor_tls_failed", nil, "vendor-error: vendor_tls_failed"),
            (.error, "audit_unavailable", nil, "audit: audit_unavailable"),
            (.error, "something_new", nil, "other: something_new"),
        ]
        for (decision, code, rule, text) in cases {
            entry.decision = decision
            entry.reason = code
            entry.rule = rule
            #expect(DecisionReason.text(of: entry) == text)
        }
    }

    @Test func bodySegmentsMarkPlaceholdersAndTheTokenKindsTheRecordWrote() {
        let text =
            "a [REDACTED:CODENAME] b %5BREDACTED%3AHOST%5D c EMAIL_ABCDE23 d xEMAIL_ABCDEFG e EMAIL_abcdef012345 "
            + "f CODE_NAME_EBIT4IYC7X2I6L2Z g Email_ABCDEFG h EMAIL_ABCD i [REDACTED:] j _ABCDEF k EMAIL_ABCDEFGx"
        let body = Array(text.utf8)
        let placeholders = ["[REDACTED:CODENAME]", "%5BREDACTED%3AHOST%5D"]
        let cases: [(Bool, Bool, [String])] = [
            (true, true, ["EMAIL_ABCDE23", "EMAIL_abcdef012345", "CODE_NAME_EBIT4IYC7X2I6L2Z"]),
            (true, false, ["EMAIL_ABCDE23", "CODE_NAME_EBIT4IYC7X2I6L2Z"]),
            (false, true, ["EMAIL_abcdef012345"]),
            (false, false, []),
        ]
        for (pseudonyms, hashes, tokens) in cases {
            let cut = BodySegments(body, pseudonyms: pseudonyms, hashes: hashes)
            #expect(cut.segments.filter { $0.kind == .placeholder }.map(\.text) == placeholders)
            #expect(cut.segments.filter { $0.kind == .pseudonym }.map(\.text) == tokens, "\(pseudonyms) \(hashes)")
            #expect(cut.segments.map(\.text).joined() == text, "nothing lost or added")
        }
        #expect(
            BodySegments(body, pseudonyms: true, hashes: false).tokens.map(\.label) == ["EMAIL", "CODE_NAME"]
        )
    }
}
