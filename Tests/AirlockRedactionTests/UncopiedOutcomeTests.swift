import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// `redactWithoutCopy`: the same decisions as `redact(body:)`, with a body that may leave as it is reported as
/// `.unchanged` instead of copied.
@Suite struct UncopiedOutcomeTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(
            makePolicy(
                terms: [codenames],
                detectors: [DetectorRule(kind: .secret, action: .block)],
                fields: [FieldRule(path: try JSONPath(parsing: "$.notes"), action: .drop)]
            )
        )
    }

    func both(
        _ body: [UInt8],
        type: String = "application/json",
        encoding: String? = nil
    )
        -> (RedactionOutcome, UncopiedRedactionOutcome)
    {
        let copied = redactor.redact(body: body, contentType: type, contentEncoding: encoding, vendor: "scale")
        let uncopied = body.withUnsafeBytes {
            redactor.redactWithoutCopy(body: $0, contentType: type, contentEncoding: encoding, vendor: "scale")
        }
        return (copied, uncopied)
    }

    @Test func aCleanBodyIsUnchanged() throws {
        for (body, type) in [
            (#"{"prompt":"nothing to see","n":[1,2]}"#, "application/json"), ("plain words", "text/plain"),
        ] {
            let (copied, uncopied) = both(Array(body.utf8), type: type)
            guard case .unchanged(let findings) = uncopied else {
                Issue.record("expected unchanged, got \(uncopied)")
                continue
            }
            #expect(findings.isEmpty)
            #expect(copied.forwardedBody == Array(body.utf8))
        }
    }

    @Test func aCompressedCleanBodyIsUnchangedAndNotRecompressed() throws {
        let plain = Array(#"{"prompt":"nothing to see"}"#.utf8)
        let gzipped = Compression.compress(plain, coding: .gzip)
        let (copied, uncopied) = both(gzipped, encoding: "gzip")
        guard case .unchanged = uncopied else {
            Issue.record("expected unchanged, got \(uncopied)")
            return
        }
        #expect(copied.forwardedBody == gzipped)
    }

    @Test func changedBodiesBlocksAndRefusalsAreTheSameDecisions() throws {
        let changed = both(Array(#"{"prompt":"about Nightingale","notes":"x"}"#.utf8))
        guard case .forward(let body, let findings) = changed.1 else {
            Issue.record("expected forward, got \(changed.1)")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == #"{"prompt":"about [REDACTED:CODENAME]"}"#)
        #expect(changed.0.forwardedBody == body)
        #expect(findings == changed.0.findings)

        let blocked = both(Array(#"{"k":"AKIAIOSFODNN7EXAMPLE"}"#.utf8))
        guard case .block(let rule, _, _) = blocked.1 else {
            Issue.record("expected block, got \(blocked.1)")
            return
        }
        #expect(rule == blocked.0.blockedRule)

        let refused = both(Array(#"{"k":"#.utf8))
        guard case .uninspectable(let reason, _) = refused.1, case .uninspectable(let expected, _) = refused.0 else {
            Issue.record("expected uninspectable, got \(refused.1)")
            return
        }
        #expect(reason == expected)
    }

    @Test func termFingerprintsKeptAcrossRequestsAreTheKeyedFingerprintsOfTheValues() throws {
        let expected = testKeys.fingerprint(Array("Nightingale".utf8))
        for _ in 0..<3 {
            // The dictionary spelling takes the kept fingerprint; another spelling is fingerprinted as written.
            let outcome = redactor.redact(
                body: Array(#"{"a":"Nightingale","b":"nightingale"}"#.utf8),
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "scale"
            )
            let finding = try #require(outcome.findings.first { $0.rule == "codenames" })
            #expect(finding.fingerprints == [expected, testKeys.fingerprint(Array("nightingale".utf8))])
        }
    }
}

/// The small map that keeps the longest regex match end per (expression, start).
@Suite struct LongestEndsTests {
    @Test func keepsTheLongestEndPerKeyBelowAndAboveTheListLimit() {
        for keys in [3, 16, 40] {
            var longest = LongestEnds()
            for round in 0..<3 {
                for key in 0..<keys { longest.keep(UInt64(key), key * 10 + [5, 9, 1][round]) }
            }
            #expect(longest.entries.count == keys)
            for entry in longest.entries { #expect(entry.end == Int(entry.key) * 10 + 9, "\(keys) keys") }
        }
    }
}

/// The C walk's edits encode straight into the output (`appendEncoded`, which `encodeString` is built on): every byte
/// as a byte-by-byte reference encoder writes it, after what `out` already held.
@Suite struct AppendEncodedTests {
    /// One byte at a time: `\n`, `\r`, `\t`, `\"`, `\\`, other control characters as `\u00XX`, the rest as is.
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        return bytes.flatMap { b -> [UInt8] in
            switch b {
            case 0x0A: Array(#"\n"#.utf8)
            case 0x0D: Array(#"\r"#.utf8)
            case 0x09: Array(#"\t"#.utf8)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): [0x5C, b]
            case ..<0x20: Array(#"\u00"#.utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: [b]
            }
        }
    }

    @Test func appendEncodedWritesWhatTheReferenceEncoderWrites() {
        var g = TestGenerator(state: 0x0123_4567_89AB_CDEF)
        let samples: [[UInt8]] = [[], Array(0..<128), Array(#"a"b\c/é"#.utf8), [0x0A, 0x0D, 0x09, 0x08, 0x0C, 0x7F]]
        for bytes in samples
            + (0..<500).map({ _ in (0..<g.below(80)).map { _ in UInt8(truncatingIfNeeded: g.next()) } })
        {
            var out = Array("prefix".utf8)
            JSONRedactor.appendEncoded(bytes, to: &out)
            #expect(out == Array("prefix".utf8) + Self.reference(bytes))
            #expect(JSONRedactor.encodeString(bytes) == Self.reference(bytes))
        }
    }
}

/// Findings are found by comparison while there are few and through an index beyond that: both give one finding per
/// rule and action, counted and in first-seen order.
@Suite struct ManyFindingsTests {
    @Test func twelveRulesEachMatchingTwiceGiveTwelveFindingsInOrder() throws {
        let words = (0..<12).map { "Codeword\(Character(UnicodeScalar(UInt8(ascii: "a") + UInt8($0))))x" }
        let redactor = try makeRedactor(
            makePolicy(
                terms: words.enumerated().map { k, word in
                    TermRule(id: "t\(k)", label: "T\(k)", action: k % 2 == 0 ? .redact : .mask, values: [word])
                }
            )
        )
        let body = "{\"a\":\"\(words.joined(separator: " "))\",\"b\":[\"\(words.reversed().joined(separator: " "))\"]}"
        let outcome = redactor.redact(
            body: Array(body.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        let findings = outcome.findings
        #expect(findings.map(\.rule) == (0..<12).map { "t\($0)" })
        #expect(findings.allSatisfy { $0.count == 2 && $0.paths == ["$.a", "$.b[0]"] })
    }
}
