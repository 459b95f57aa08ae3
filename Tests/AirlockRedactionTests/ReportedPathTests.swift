import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Findings paths and reasons name keys as they left: the key's own redaction, the same with the C kernel walk and
/// the Swift walker; a fingerprint where nothing left; escaped and capped.
@Suite struct ReportedPathTests {
    static let policy = makePolicy(
        terms: [TermRule(id: "codenames", label: "CODENAME", action: .pseudonymize, values: ["Nightingale"])],
        detectors: [DetectorRule(kind: .email, action: .redact), DetectorRule(kind: .secret, action: .block)],
        fields: [FieldRule(path: try! JSONPath(parsing: "$.secrets.*"), action: .block)]
    )

    static func findings(_ outcome: RedactionOutcome) -> [Finding] { outcome.findings }

    @Test(arguments: [true, false])
    func aPathNamesEachKeyAsTheBodysKeyLeft(stringKernel: Bool) throws {
        let redactor = try makeRedactor(Self.policy, stringKernel: stringKernel)
        for body in [
            #"{"Nightingale": {"note": "mail jane@lab.example.com"}}"#,
            #"{"\u004eightingale": {"note": "mail jane@lab.example.com"}}"#,
        ] {
            let left = try #require(forwarded(redactor, body))
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(left.utf8)) as? [String: Any]
            )
            let token = try #require(object.keys.first)
            #expect(token.hasPrefix("CODENAME_"), "\(left)")
            let email = try #require(Self.findings(redacted(redactor, body)).first { $0.rule == "email" })
            #expect(email.paths == ["$.\(token).note"], "\(body)")
        }
    }

    @Test func longKeysAndDeepPathsAreCapped() throws {
        let redactor = try makeRedactor(Self.policy)
        let long = String(repeating: "k", count: 300) + " x"
        let wide = try #require(
            Self.findings(redacted(redactor, #"{"\#(long)": "jane@lab.example.com"}"#)).first?.paths.first
        )
        #expect(wide.utf8.count <= ReportedText.maxName + 16, "\(wide)")
        #expect(wide.hasSuffix("…']"), "\(wide)")
        let depth = 400
        let deep =
            String(repeating: #"{"level": "#, count: depth) + #""jane@lab.example.com""#
            + String(repeating: "}", count: depth)
        let path = try #require(Self.findings(redacted(redactor, deep)).first?.paths.first)
        #expect(path.utf8.count <= ReportedText.maxPath + "…".utf8.count, "\(path.utf8.count)")
        #expect(path.hasSuffix("…"))
    }

    @Test func aKeyThatHoldsABlockedValueOrIsPickedByAWildcardBlockIsAFingerprint() throws {
        let redactor = try makeRedactor(Self.policy)
        for (body, secret) in [
            (#"{"a": {"AKIAZ7VQ3LR4XK2MB9TW": 1}}"#, "AKIAZ7VQ3LR4XK2MB9TW"),
            (#"{"secrets": {"launch-plan-owner": "x"}}"#, "launch-plan-owner"),
        ] {
            let outcome = redacted(redactor, body)
            guard case .block(_, let reason, let findings) = outcome else {
                Issue.record("expected a block, got \(outcome)")
                continue
            }
            #expect(reason.contains("[<key ") && !reason.contains(secret), "\(reason)")
            for path in findings.flatMap(\.paths) {
                #expect(!path.contains(secret), "\(path)")
            }
        }
    }

    @Test func aReasonQuotingWhatThePolicyBlocksIsWithheldAndOneQuotingATermIsRedacted() throws {
        let redactor = try makeRedactor(Self.policy)
        let blocked = redacted(redactor, "x", type: "application/x-AKIAZ7VQ3LR4XK2MB9TW")
        guard case .block(_, let reason, _) = blocked else {
            Issue.record("expected a block, got \(blocked)")
            return
        }
        #expect(!reason.contains("AKIA"), "\(reason)")
        let termed = redacted(redactor, "x", type: "application/x-nightingale\u{1B}[2K")
        guard case .block(_, let termReason, _) = termed else {
            Issue.record("expected a block, got \(termed)")
            return
        }
        #expect(!termReason.lowercased().contains("nightingale") && !termReason.contains("\u{1B}"), "\(termReason)")
        // The media type is not quoted at all (a declared type is lab text, and quoted lower-cased a case-sensitive
        // rule could not scrub it: DeclaredParameterReasonTests).
        #expect(!termReason.lowercased().contains("application/x-"), "\(termReason)")
    }
}
