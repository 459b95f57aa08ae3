import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

@Suite struct PatternAndDetectorTests {
    @Test func patternWithHotwordsNeedsAHotwordNearby() throws {
        let redactor = try makeRedactor(
            makePolicy(patterns: [
                PatternRule(
                    id: "roadmap-quarter",
                    label: "ROADMAP",
                    action: .redact,
                    regex: "Q[1-4] ?20[0-9]{2}",
                    near: ["launch", "GA"],
                    within: 30
                )
            ])
        )
        #expect(forwarded(redactor, #"{"t":"We launch in Q3 2026."}"#) == #"{"t":"We launch in [REDACTED:ROADMAP]."}"#)
        #expect(
            forwarded(redactor, #"{"t":"Revenue for Q3 2026 was flat."}"#) == #"{"t":"Revenue for Q3 2026 was flat."}"#
        )
        let far = #"{"t":"launch. "# + String(repeating: "x", count: 60) + #" Q3 2026"}"#
        #expect(forwarded(redactor, far) == far)
    }

    @Test func patternWithoutHotwordsMatchesAnywhereWithItsFullSpan() throws {
        let redactor = try makeRedactor(
            makePolicy(patterns: [
                PatternRule(id: "run", label: "RUN", action: .redact, regex: "run-20[0-9]{6}-[0-9a-f]{8}")
            ])
        )
        #expect(
            forwarded(redactor, #"{"t":"see run-20260114-7f3a9c2e, run-20250101-00000000"}"#)
                == #"{"t":"see [REDACTED:RUN], [REDACTED:RUN]"}"#
        )
    }

    @Test func emailDetectorHonoursDomains() throws {
        let redactor = try makeRedactor(
            makePolicy(detectors: [DetectorRule(kind: .email, action: .redact, domains: ["lab.example.com"])])
        )
        #expect(
            forwarded(redactor, #"{"t":"mail ana.b+x@lab.example.com or bob@eu.lab.example.com, not carol@gmail.com"}"#)
                == #"{"t":"mail [REDACTED:EMAIL] or [REDACTED:EMAIL], not carol@gmail.com"}"#
        )
    }

    @Test func urlDetectorHonoursHostsWithAndWithoutScheme() throws {
        let redactor = try makeRedactor(
            makePolicy(detectors: [
                DetectorRule(kind: .url, action: .redact, hosts: [HostPattern("*.corp.example.com")!])
            ])
        )
        let out = forwarded(
            redactor,
            #"{"t":"see https://wiki.corp.example.com/x?y=1 and wiki.corp.example.com/page but https://example.org/a"}"#
        )
        #expect(out == #"{"t":"see [REDACTED:URL] and [REDACTED:URL] but https://example.org/a"}"#)
    }

    @Test func ipDetectorHonoursRanges() throws {
        let redactor = try makeRedactor(
            makePolicy(detectors: [
                DetectorRule(
                    kind: .ip,
                    action: .redact,
                    ranges: [try CIDRRange(parsing: "10.0.0.0/8"), try CIDRRange(parsing: "fd00::/8")]
                )
            ])
        )
        #expect(
            forwarded(redactor, #"{"t":"hosts 10.1.2.3, 8.8.8.8, fd00::1 and version 1.2.3.4.5"}"#)
                == #"{"t":"hosts [REDACTED:IP], 8.8.8.8, [REDACTED:IP] and version 1.2.3.4.5"}"#
        )
    }

    @Test(arguments: [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
        "xoxb-1234567890-abcdefghij",
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Bearer abcdefghijklmnop0123456789",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ])
    func secretDetectorBlocks(_ secret: String) throws {
        let redactor = try makeRedactor(makePolicy(detectors: [DetectorRule(kind: .secret, action: .block)]))
        let body = try JSONEncoderHelper.json(["note": "use \(secret) here"])
        let outcome = redactor.redact(body: body, contentType: "application/json", contentEncoding: nil, vendor: "v")
        guard case .block(let rule, _, let findings) = outcome else {
            Issue.record("expected block, got \(outcome)")
            return
        }
        #expect(rule == "secret")
        #expect(outcome.forwardedBody == nil)
        #expect(findings.first?.action == "block")
    }

    @Test func secretDetectorIgnoresOrdinaryText() throws {
        let redactor = try makeRedactor(makePolicy(detectors: [DetectorRule(kind: .secret, action: .block)]))
        let input = #"{"t":"ask for a skeleton key, task-list and AKIA as a word"}"#
        #expect(forwarded(redactor, input) == input)
    }
}

@Suite struct OverlapAndAllowTests {
    @Test func higherPrecedenceWinsOverlaps() throws {
        let redactor = try makeRedactor(
            makePolicy(
                terms: [TermRule(id: "bird", label: "BIRD", action: .mask, values: ["Falcon"])],
                patterns: [PatternRule(id: "project", label: "PROJECT", action: .redact, regex: "Project [A-Z][a-z]+")]
            )
        )
        #expect(forwarded(redactor, #"{"t":"Project Falcon"}"#) == #"{"t":"[REDACTED:PROJECT]"}"#)
    }

    @Test func leftmostLongestWinsWithinOneAction() throws {
        let redactor = try makeRedactor(
            makePolicy(terms: [
                TermRule(id: "short", label: "SHORT", action: .redact, values: ["Project"]),
                TermRule(id: "long", label: "LONG", action: .redact, values: ["Project Falcon"]),
            ])
        )
        #expect(
            forwarded(redactor, #"{"t":"Project Falcon and Project"}"#)
                == #"{"t":"[REDACTED:LONG] and [REDACTED:SHORT]"}"#
        )
    }

    @Test func blockWinsOverEverything() throws {
        let redactor = try makeRedactor(
            makePolicy(terms: [
                TermRule(id: "redacted", label: "R", action: .redact, values: ["Falcon"]),
                TermRule(id: "blocked", label: "B", action: .block, values: ["Project Falcon"]),
            ])
        )
        let outcome = redactor.redact(
            body: Array(#"{"t":"Project Falcon"}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        guard case .block(let rule, let reason, _) = outcome else {
            Issue.record("expected block, got \(outcome)")
            return
        }
        #expect(rule == "blocked")
        #expect(!reason.contains("Falcon"), "the reason must not carry the matched value")
    }

    @Test func allowListSuppressesMatchesInsideIt() throws {
        let redactor = try makeRedactor(
            makePolicy(
                terms: [TermRule(id: "g", label: "G", action: .redact, values: ["Gutenberg"])],
                allow: ["Project Gutenberg"]
            )
        )
        #expect(
            forwarded(redactor, #"{"t":"Project Gutenberg vs Gutenberg, project gutenberg"}"#)
                == #"{"t":"Project Gutenberg vs [REDACTED:G], project gutenberg"}"#
        )
    }

    @Test func allowListDoesNotSuppressABlockOutsideIt() throws {
        let redactor = try makeRedactor(
            makePolicy(
                terms: [TermRule(id: "b", label: "B", action: .block, values: ["Nightingale"])],
                allow: ["Nightingale Hospital"]
            )
        )
        #expect(forwarded(redactor, #"{"t":"at Nightingale Hospital"}"#) == #"{"t":"at Nightingale Hospital"}"#)
        let outcome = redactor.redact(
            body: Array(#"{"t":"Nightingale"}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.blockedRule == "b", "\(outcome)")
    }
}

enum JSONEncoderHelper {
    static func json(_ object: [String: String]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object))
    }
}
