import Foundation
import Testing

@testable import AirlockPolicy

/// `mode: report` on every kind of rule: read, validated at file:line:col, and split off the enforced rules.
@Suite("Rule mode")
struct RuleModeTests {
    @Test("mode: report on terms, patterns, detectors and fields; enforce by default")
    func reportModeIsReadOnEveryRuleKind() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: 1
            name: test
            terms:
              - {id: codenames, action: pseudonymize, values: [Nightingale]}
              - {id: roadmap, action: block, values: [Q3 launch], mode: report}
            patterns:
              - {id: runs, regex: 'run-[0-9]+', action: redact, mode: report}
            detectors:
              - email: {action: redact, mode: enforce}
              - secret: {action: block, mode: report}
            fields:
              - {path: $..budget, action: drop, mode: report}
            """
        ])
        let policy = try #require(fixture.load().policy, "\(fixture.load().diagnostics)")
        #expect(policy.terms.map(\.mode) == [.enforce, .report])
        #expect(policy.patterns.map(\.mode) == [.report])
        #expect(policy.detectors.map(\.mode) == [.enforce, .report])
        #expect(policy.fields.map(\.mode) == [.report])
        #expect(policy.hasReportRules)
        let enforced = policy.enforcedPart
        #expect(enforced.terms.map(\.id) == ["codenames"] && enforced.patterns.isEmpty && enforced.fields.isEmpty)
        #expect(enforced.detectors.map(\.id) == ["email"])
        let reported = try #require(policy.reportedPart)
        #expect(reported.terms.map(\.id) == ["roadmap"] && reported.detectors.map(\.id) == ["secret"])
        #expect(reported.terms.allSatisfy { $0.mode == .enforce && $0.action == .block })
        #expect(reported.unknownContent == .pass)
        #expect(policy.enforcedPart.reportedPart == nil)
    }

    @Test("A bad mode points at its value; encoded fields take none")
    func badModesAreReportedWhereTheyAreWritten() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: 1
            name: test
            terms:
              - {id: a, action: redact, values: [x], mode: reprot}
            patterns:
              - {id: p, regex: 'a+', action: redact, mode: [report]}
            detectors:
              - email: {action: redact, mode: audit}
            fields:
              - {path: $..shot, encoding: base64, mode: report}
            """
        ])
        #expect(
            fixture.load().diagnostics == [
                "policy.yaml:4:48: unknown mode 'reprot'; did you mean 'report'? (expected one of: enforce, report)",
                "policy.yaml:6:48: 'mode' must be a string, found a list",
                "policy.yaml:8:35: unknown mode 'audit' (expected one of: enforce, report)",
                "policy.yaml:10:39: a fields rule with 'encoding' takes no 'mode': the decoded value is inspected by its type",
            ]
        )
    }
}
