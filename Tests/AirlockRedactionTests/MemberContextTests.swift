import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// A pattern's hotwords see the key of a JSON value and the other members of its object (issue 11 §6), on the C walk
/// and on the Swift reference walker.
@Suite struct MemberContextTests {
    static let policy = makePolicy(
        terms: [codenames],
        patterns: [
            PatternRule(
                id: "roadmap-quarter",
                label: "ROADMAP",
                action: .redact,
                regex: "Q[1-4] ?20[0-9]{2}",
                near: ["launch quarter", "GA"],
                within: 30
            )
        ]
    )

    static func redactors() throws -> [Redactor] {
        [try makeRedactor(policy), try makeRedactor(policy, stringKernel: false)]
    }

    @Test func theKeyOfAValueIsContext() throws {
        for redactor in try Self.redactors() {
            // As plain text, caught today: the control that shows the rule works.
            #expect(
                forwarded(redactor, #"{"t":"launch quarter Q2 2027"}"#) == #"{"t":"launch quarter [REDACTED:ROADMAP]"}"#
            )
            #expect(
                forwarded(redactor, #"{"launch_quarter":"Q2 2027"}"#) == #"{"launch_quarter":"[REDACTED:ROADMAP]"}"#
            )
            #expect(
                forwarded(redactor, #"{"Launch-Quarter":"Q2 2027"}"#) == #"{"Launch-Quarter":"[REDACTED:ROADMAP]"}"#
            )
            #expect(
                forwarded(redactor, #"{"plan":{"launch_quarter":["Q2 2027","Q3 2027"]}}"#)
                    == #"{"plan":{"launch_quarter":["[REDACTED:ROADMAP]","[REDACTED:ROADMAP]"]}}"#
            )
        }
    }

    @Test func siblingKeysAndValuesAreContext() throws {
        for redactor in try Self.redactors() {
            #expect(
                forwarded(redactor, #"{"milestone":"GA","when":"Q2 2027","n":1}"#)
                    == #"{"milestone":"GA","when":"[REDACTED:ROADMAP]","n":1}"#
            )
            #expect(
                forwarded(redactor, #"{"when":"Q2 2027","big":{"x":[1,2]},"launch quarter":true}"#)
                    == #"{"when":"[REDACTED:ROADMAP]","big":{"x":[1,2]},"launch quarter":true}"#
            )
            // NDJSON: each line its own object.
            #expect(
                forwarded(redactor, "{\"GA\":1,\"q\":\"Q4 2026\"}\n{\"q\":\"Q4 2026\"}\n", type: "application/x-ndjson")
                    == "{\"GA\":1,\"q\":\"[REDACTED:ROADMAP]\"}\n{\"q\":\"Q4 2026\"}\n"
            )
        }
    }

    /// Controls: a quarter with no hotword anywhere in its object stays, and neither a nested object's nor another
    /// object's members count.
    @Test func quartersWithoutHotwordsInTheirObjectStay() throws {
        let controls = [
            #"{"revenue_quarter":"Q2 2027","note":"flat"}"#,
            #"{"when":"Q2 2027","details":{"milestone":"GA"}}"#,
            #"[{"milestone":"GA"},{"when":"Q2 2027"}]"#,
            #"{"a":{"milestone":"GA"},"b":{"when":"Q2 2027"}}"#,
            #"{"launches":"Q2 2027","quarterly":"x"}"#,
            #"["launch quarter","Q2 2027"]"#,
        ]
        for redactor in try Self.redactors() {
            for control in controls { #expect(forwarded(redactor, control) == control) }
        }
    }

    /// A key is redacted on its own text only, so the path naming it writes it as it left.
    @Test func aKeyIsJudgedOnItsOwnTextAndNamedAsItLeft() throws {
        for redactor in try Self.redactors() {
            let document = #"{"Q2 2027":"launch quarter","n":"Nightingale"}"#
            guard case .forward(let body, let findings) = redacted(redactor, document) else {
                Issue.record("expected forward")
                continue
            }
            #expect(String(decoding: body, as: UTF8.self) == #"{"Q2 2027":"launch quarter","n":"[REDACTED:CODENAME]"}"#)
            #expect(findings.flatMap(\.paths) == ["$.n"])
            let hidden = #"{"launch_quarter":{"GA Q2 2027":"Nightingale"}}"#
            guard case .forward(let body2, let findings2) = redacted(redactor, hidden) else {
                Issue.record("expected forward")
                continue
            }
            let out = String(decoding: body2, as: UTF8.self)
            #expect(!out.contains("Q2 2027"))
            #expect(!findings2.flatMap(\.paths).joined().contains("Q2 2027"))
        }
    }
}
