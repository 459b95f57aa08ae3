import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The single-pass database scans cheaper "fast forms" of some detector expressions (`Detectors.Expression`). A fast
/// form that misses an offset where the detector's own expression ends would miss a match (a leak), so these tests
/// hold them to the contract on generated text built from the characters the expressions care about, and compare
/// whole redactions against the reference engine that scans the detectors' own expressions.
@Suite struct DetectorFastFormTests {
    /// One compiled set of expressions (all under id 0) and a scratch for it.
    final class Scanner {
        let database: VectorscanDatabase
        let pool: ScratchPool

        init(_ expressions: [String]) throws {
            database = try VectorscanDatabase(
                expressions: expressions.map { VectorscanExpression(pattern: $0, flags: VS.utf8, id: 0) },
                som: false
            )
            pool = ScratchPool(databases: [database])
        }

        /// The offsets at which a match ends in `text`.
        func ends(in text: [UInt8]) -> Set<Int> {
            let scratch = pool.take()
            defer { pool.give(scratch) }
            let sink = HitSink()
            text.withUnsafeBufferPointer { database.scanEnds($0, scratch: scratch, into: sink) }
            #expect(sink.failure == nil)
            return Set(sink.hits.map(\.end))
        }
    }

    static var withFastForms: [Detectors.Expression] {
        DetectorRule.Kind.allCases.flatMap { Detectors.expressions(for: $0) }.filter { !$0.fastForms.isEmpty }
    }

    @Test func theAddressAndAssignmentDetectorsHaveFastForms() {
        // The speed of the single pass depends on these; losing them silently would halve it.
        #expect(
            Set(Self.withFastForms.map(\.regex)) == [Detectors.ipv4, Detectors.ipv6, SecretFormats.genericAssignment]
        )
        let walked = DetectorRule.Kind.allCases.flatMap { Detectors.expressions(for: $0) }.filter(\.startFromAt)
        #expect(walked.map(\.regex) == [Detectors.email])
    }

    @Test func fastFormsOnlyStandInForExpressionsWithoutAssertions() {
        // A window scan of an expression with `\b`, `^` or `$` can match where the whole text does not; an extra
        // hit of a fast form would then add a match. (An expression read from its end has no window scan: its fast
        // forms are exact instead, `assignmentFastFormsAreExact`.)
        for expression in Self.withFastForms where !expression.check.valueFromEnd {
            #expect(!expression.regex.contains("\\b"), "\(expression.regex)")
            #expect(!expression.regex.contains("^"), "\(expression.regex)")
            #expect(!expression.regex.contains("$"), "\(expression.regex)")
        }
    }

    @Test func fastFormsReportEveryEndOfTheirExpression() throws {
        var generator = TestGenerator(state: 0x5DEE_CE66_D1CE_4E5B)
        var texts: [[UInt8]] = [
            "10.1.2.3", "1.2.3.4.5", "999.999.999.999", "a 10.0.0.1, b", "fd00::1", "::", ":::", "::1%eth0",
            "fe80::1ff:fe23:4567:890a%eth0", "2001:db8:85a3:0:0:8a2e:370:7334", "1:2:3:4:5:6:7:8:9:10", "a:b", ":%z",
            "12:34:56", "0:%abcdefghijklmnopqrstuvwxyz",
        ].map { Array($0.utf8) }
        for _ in 0..<3_000 { texts.append(generator.addressSoup(length: 1 + generator.below(96))) }
        for expression in Self.withFastForms {
            let reference = try Scanner([expression.regex])
            let fast = try Scanner(expression.fastForms)
            for text in texts {
                let missed = reference.ends(in: text).subtracting(fast.ends(in: text))
                #expect(
                    missed.isEmpty,
                    "\(expression.regex) ends at \(missed.sorted()) in \(String(decoding: text, as: UTF8.self))"
                )
            }
        }
    }

    @Test func assignmentFastFormsAreExact() throws {
        // An assignment's end is taken as its value's first character without a window scan: the fast forms must
        // end exactly where the expression does, no fewer ends (a leak) and no more (a value judged that is none).
        let reference = try Scanner([SecretFormats.genericAssignment])
        let fast = try Scanner(SecretFormats.genericAssignmentFastForms)
        var generator = TestGenerator(state: 0x9E37_79B9_7F4A_7C15)
        var texts: [[UInt8]] = [
            "token=Xk9", "token = Xk9", "Token\u{a0}:\u{3000}'Xk9'", "\"api_key\": \"Xk9\"", "password:=x", "pwd=>x",
            "token budget", "token: ", "token==x", "secret_key \t= \"x", "client-secret=x", "token\n=x", "tokens=x",
        ].map { Array($0.utf8) }
        for _ in 0..<4_000 { texts.append(generator.assignmentSoup(length: 1 + generator.below(64))) }
        var ends = 0
        for text in texts {
            let expected = reference.ends(in: text)
            #expect(fast.ends(in: text) == expected, "\(String(decoding: text, as: UTF8.self))")
            ends += expected.count
        }
        #expect(ends > 500, "the generated text should hold assignments")
    }

    @Test func percentEscapesAndTimesAreNotAddressHits() throws {
        // Extra hits are sound but each costs a window scan; URLs are full of percent-escapes.
        let fast = try Scanner(Detectors.expressions(for: .ip).flatMap(\.fastForms))
        let text = Array("see https://wiki.example.com/a%20b%2Fc?q=x%3Ay%25z and 50%off, v1.2 at 5pm".utf8)
        #expect(fast.ends(in: text).isEmpty)
    }

    @Test func ipv4FastFormsAreExact() throws {
        let reference = try Scanner([Detectors.ipv4])
        let fast = try Scanner(Detectors.expressions(for: .ip).first { $0.regex == Detectors.ipv4 }!.fastForms)
        var generator = TestGenerator(state: 0x1234_5678_9ABC_DEF1)
        for _ in 0..<2_000 {
            let text = generator.addressSoup(length: 1 + generator.below(64))
            #expect(reference.ends(in: text) == fast.ends(in: text), "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test func emailStartIsTheStartOfMatchScansStart() throws {
        let ends = try Scanner([Detectors.email])
        let spans = try VectorscanDatabase(
            expressions: [VectorscanExpression(pattern: Detectors.email, flags: VS.utf8, id: 0)],
            som: true
        )
        let pool = ScratchPool(databases: [spans])
        let scratch = pool.take()
        defer { pool.give(scratch) }
        var generator = TestGenerator(state: 0x2545_F491_4F6C_DD1D)
        var compared = 0
        for _ in 0..<1_500 {
            let text = generator.emailSoup(length: 4 + generator.below(90))
            for end in ends.ends(in: text) {
                for floor in Set([0, generator.below(end), max(0, end - 6), end - 1]) {
                    // What the start-of-match scan of the window `floor..<end` reports for a match ending at `end`.
                    let sink = HitSink()
                    sink.base = floor
                    text.withUnsafeBufferPointer {
                        spans.scanSpans(UnsafeBufferPointer(rebasing: $0[floor..<end]), scratch: scratch, into: sink)
                    }
                    let reference = sink.spans.filter { $0.end == end }.map(\.start).min()
                    let walked = text.withUnsafeBufferPointer {
                        EmailStart.leftmost($0.baseAddress!, end: end, floor: floor)
                    }
                    #expect(
                        walked == reference,
                        "end \(end) floor \(floor) in \(String(decoding: text, as: UTF8.self))"
                    )
                    compared += 1
                }
            }
        }
        #expect(compared > 1_000, "the generated text should hold emails")
    }

    /// Whole redactions, fast forms against the detectors' own expressions: identical bodies and findings, over JSON
    /// and plain text, for ranges that accept some addresses, none, or all.
    @Test(arguments: [
        ["10.0.0.0/8", "fd00::/8"],
        ["0.0.0.0/0", "::/0"],
        [],
    ])
    func redactionIsIdenticalToTheReferenceEngine(_ ranges: [String]) throws {
        let policy = makePolicy(
            terms: [codenames],
            detectors: [
                DetectorRule(kind: .ip, action: .redact, ranges: try ranges.map { try CIDRRange(parsing: $0) }),
                DetectorRule(kind: .email, action: .pseudonymize),
            ]
        )
        let fast = try makeRedactor(policy)
        let reference = try Redactor(policy: policy, keys: testKeys, limits: DecompressionLimits(), useFastForms: false)
        #expect(fast.rules.fast != nil && reference.rules.fast != nil)
        var generator = TestGenerator(state: 0xA076_1D64_78BD_642F)
        var changed = 0
        for round in 0..<600 {
            let bytes =
                round % 2 == 0
                ? generator.addressSoup(length: 8 + generator.below(120))
                : generator.emailSoup(length: 8 + generator.below(120))
            let soup = String(decoding: bytes, as: UTF8.self)
            let json = Array(
                #"{"host\#(round)":\#(JSONEncoder.quoted(soup)),"n":[\#(JSONEncoder.quoted("ask " + soup))]}"#.utf8
            )
            for (body, type) in [(json, "application/json"), (Array(soup.utf8), "text/plain")] {
                let a = fast.redact(body: body, contentType: type, contentEncoding: nil, vendor: "scale")
                let b = reference.redact(body: body, contentType: type, contentEncoding: nil, vendor: "scale")
                guard case .forward(let outA, let findingsA) = a, case .forward(let outB, let findingsB) = b else {
                    Issue.record("not forwarded: \(a) / \(b)")
                    continue
                }
                #expect(outA == outB, "\(String(decoding: body, as: UTF8.self))")
                #expect(findingsA == findingsB)
                if outA != body { changed += 1 }
            }
        }
        if !ranges.isEmpty { #expect(changed > 100, "the generated text should hold addresses to redact") }
    }
}

extension JSONEncoder {
    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}

/// Text generators for the detector fast forms.
extension TestGenerator {
    /// Text dense in local-part and domain characters, `@` signs and dots: emails, and near misses.
    mutating func emailSoup(length: Int) -> [UInt8] {
        let pieces = [
            "a", "Z", "0", "jane.doe", "x+tag", "%", "-", "_", ".", "..", "@", "@", "@@", "lab", ".example",
            ".com", ".c", ".io", "-corp", " ", "\n", ",", "é", "<", ">", " ana@lab.example.com ",
        ]
        var out: [UInt8] = []
        while out.count < length { out += Array(pieces[below(pieces.count)].utf8) }
        return out
    }

    /// Text dense in credential key names (any case, any separator), quotes, blanks (Unicode ones too), assignment
    /// operators and value characters: every way a generic assignment can be written, or almost.
    mutating func assignmentSoup(length: Int) -> [UInt8] {
        let pieces = [
            "token", "TOKEN", "Token", "tokens", "pass", "Password", "passwd", "passphrase", "pwd", "secret",
            "secret_key", "Secret-Key", "client.secret", "client_secret", "api_key", "API-Token", "apisecret",
            "access_token", "auth-token", "refresh_token", "private_key", "credential", "credentials", "\"", "'", " ",
            "  ", "\t", "\u{a0}", "\u{2003}", "\u{202f}", "\u{205f}", "\u{3000}", "\u{2028}", ":", "=", ":=", "=>",
            "==", ">", "x", "Xk9", "+/", "-", "_", ".", "~!@#%^*", ",", ";", "\n", "é", "$", "(", "budget",
        ]
        var out: [UInt8] = []
        while out.count < length { out += Array(pieces[below(pieces.count)].utf8) }
        return out
    }

    /// Text dense in digits, hex letters, dots, colons, percent signs and zone names, with a few separators and
    /// a non-ASCII letter: every way an address can start, end, or almost be one.
    mutating func addressSoup(length: Int) -> [UInt8] {
        let pieces = [
            "0", "1", "9", "25", "255", "256", "1000", "a", "F", "fe80", "ffff", "db8", "g", "z", "x", ".", ".",
            ":",
            ":", "::", "%", "%eth0", "%25", " ", "\n", "-", "/", "é", "10.", "::1", "1.2.3.4", "2001:db8::", " ",
            " ", ", ", " and ", " 10.1.2.3 ", " fd00::1 ", " 8.8.8.8 ",
        ]
        var out: [UInt8] = []
        while out.count < length { out += Array(pieces[below(pieces.count)].utf8) }
        return out
    }
}
