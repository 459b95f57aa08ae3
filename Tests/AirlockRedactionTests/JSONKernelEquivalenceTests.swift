import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The C string kernel (`CAirlockSIMD_json_string`) against the Swift reference walker: byte-identical bodies, the
/// same findings, the same refusals with the same reasons, on generated JSON full of escapes, non-ASCII text,
/// invisible characters, nested documents and hits at every alignment around 16- and 32-byte blocks, and on
/// corrupted copies of it (control characters, invalid UTF-8, lone surrogates, bad escapes, truncation).
@Suite struct JSONKernelEquivalenceTests {
    let fast: Redactor
    let reference: Redactor

    init() throws {
        let policy = makePolicy(
            terms: [
                codenames,
                TermRule(id: "models", label: "MODEL", action: .pseudonymize, values: ["Tidewater", "Ünicorn"]),
            ],
            patterns: [
                PatternRule(id: "quarter", label: "ROADMAP", action: .hash, regex: "Q[1-4] ?20[0-9]{2}"),
                // Hits inside numbers: the number leaves as a string of the redacted text.
                PatternRule(id: "run-id", label: "RUN", action: .redact, regex: "8812[0-9]{2}"),
                // Hotwords, which see the key and sibling members of a value.
                PatternRule(id: "launch", label: "LAUNCH", action: .mask, regex: "L[0-9]{3}", near: ["launch date"]),
            ],
            detectors: [DetectorRule(kind: .email, action: .pseudonymize)],
            fields: [
                FieldRule(path: try JSONPath(parsing: "$..internal_notes"), action: .drop),
                FieldRule(path: try JSONPath(parsing: "$..run_id"), action: .hash),
            ],
            allow: ["Project Gutenberg"]
        )
        fast = try makeRedactor(policy)
        reference = try makeRedactor(policy, stringKernel: false)
        #expect(fast.stringKernel && !reference.stringKernel)
    }

    /// Pieces of string content, as written inside a JSON string.
    static let pieces: [String] = [
        "plain words ", "Nightingale", "Project Falcon", "project-falcon", "Tidewater-7B", "Ünicorn's", "Q3 2026",
        "ana@lab.example.com", "Project Gutenberg", #"\n"#, #"\""#, #"\\"#, #"\/"#, #"\t"#, #"\b\f\r"#, #"\u0041"#,
        #"\u00e9"#, #"\ud83d\ude00"#, #"\u200b"#, #"Night\u200bingale"#, "Night\u{200B}ingale", "é", "€ ", "😀",
        "日本語のテキスト", "\u{00AD}", "\u{FEFF}", "x", "  ", "Nightingale's", "NIGHTINGALE",
        #"{\"row\":\"Nightingale\"}"#, #"[{\"a\":1}]"#, #" {\"k\":[\"Project Falcon\",2]}"#, "{not json",
        #"[\"Nightingale\""#, "Project%20Falcon", "Night%69ngale", "50% ", "%2F", "%FF%", "%e2%80%8b", "L123",
        "launch-date L456", "a%40lab.example.com",
        // Spellings (also in the fuzz): a gap read again in a window, a compatibility form folded by the Swift walker.
        #"Project\u00a0Falcon"#, "Project \u{FF26}alcon",
    ]

    /// More spellings, for the generated documents: whitespace runs and dashes between words, compatibility forms.
    static let spellingPieces: [String] = [
        "Project\u{00A0}Falcon", "Project\u{2013}Falcon", #"Project\r\nFalcon"#, "Project \u{2014} Falcon", "\u{FB01}",
        #"\uff2eightingale"#, "\u{212A}", "\u{1D40D}ightingale", "\u{FF34}idewater-7B", "Project\u{3000}\u{FB02}",
        "Project\t\tFalcon", "Project - - Falcon",
    ]

    /// Literals and numbers, some holding a `run-id` hit (in the integer, fraction or exponent, or spanning them).
    static let scalars = [
        "true", "false", "null", "0", "-12.5e+3", "7", "881234", "-881299", "1881234.5", "0.881234", "2e881234",
        "-1.5E-8812345", "8812.34", "881234881234", "88123",
    ]

    static let keys = [
        "a", "prompt", "internal_notes", "run_id", "Nightingale", #"k\u0065y"#, "é", "messages", "launch_date",
        "Project%20Falcon",
    ]

    /// Pieces the whole-document C walk handles itself (no invisible characters, no nested documents, no lone
    /// surrogates), and keys no `fields` rule selects.
    static let plainPieces: [String] = [
        "plain words ", "Nightingale", "Project Falcon", "PROJECT_FALCON", "Tidewater-v3-instruct", "Ünicorn",
        "Q1 2027", "bo@lab.example.com", "Project Gutenberg", #"\n"#, #"\""#, #"\\"#, #"\/"#, #"\t"#, #"\b\f\r"#,
        #"\u0041"#, #"\u00e9"#, #"\ud83d\ude00"#, #"\u0000"#, #"Night\u0069ngale"#, #"\u004eightingale"#, "é", "€ ",
        "😀", "日本語", "x", "  ", "Nightingale's", "{not json", "[1,2]", #"\u007b\"a\":1}"#,
        "Project%20Falcon", "Night%69ngale", "50% ", "%2F", "%FF%", "%C3%A9", "L123", "launch date L456",
        "a%40lab.example.com",
        // A gap between the words of a term: no need for the Swift walker (the window is read again either way).
        "Project\u{2011}falcon", #"project\n\tFalcon"#,
    ]

    /// More gaps, for the generated plain documents.
    static let plainSpellingPieces: [String] = [
        "Project\u{00A0}Falcon", #"Project\u00A0Falcon"#, "PROJECT \u{2212} FALCON", "Project\u{202F}",
        "\u{3000}Falcon", "\u{2014}", "Project  Falcon",
    ]

    static let plainKeys = [
        "a", "prompt", "Nightingale", #"k\u0065y"#, #"r\u00e9"#, "é", "messages", "run_ids", "", "launch-date",
        "Night%69ngale",
    ]

    @Test func generatedDocumentsMatchTheReference() throws {
        var g = TestGenerator(state: 0x5DEE_CE66_D1CE_4E5B)
        var changed = 0
        for round in 0..<1500 {
            let document = Array(Self.document(&g, depth: 0, pieces: Self.pieces + Self.spellingPieces).utf8)
            let outcome = compare(document, "round \(round)")
            if case .forward(let body, _) = outcome, body != document { changed += 1 }
        }
        #expect(changed > 300, "the generated documents should hold hits")
    }

    @Test func plainDocumentsTakeTheWholeDocumentWalkAndMatchTheReference() throws {
        var g = TestGenerator(state: 0x9E37_79B9_7F4A_7C15)
        var walked = 0
        var changed = 0
        for round in 0..<1500 {
            let pieces = Self.plainPieces + Self.plainSpellingPieces
            let document = Array(Self.document(&g, depth: 0, pieces: pieces, keys: Self.plainKeys).utf8)
            if try kernelWalkFinishes(document) { walked += 1 }
            let outcome = compare(document, "round \(round)")
            if case .forward(let body, _) = outcome, body != document { changed += 1 }
        }
        // A string that starts with the piece `\u007b\"a\":1}` holds a JSON document: those go to the full walker.
        #expect(walked > 1350, "plain documents should not need the full walker")
        #expect(changed > 300, "the generated documents should hold hits")
    }

    @Test func theWholeDocumentWalkHandsOverWhatItCannotDo() throws {
        for document in [
            #"{"a":"{\"b\":1}"}"#, #"{"a":"Night\u200bingale"}"#, "{\"a\":\"x\u{200B}\"}", #"{"a":"\ud800"}"#,
            #"{"internal_notes":"x"}"#, #"{"run\u005fid":"x"}"#, #"{"a":1"#, #"{"a":01}"#, #"["#,
            // Compatibility forms, raw or escaped, in a value or a key: folded by the Swift walker.
            "{\"a\":\"\u{FB01}\"}", #"{"a":"\uff2eightingale"}"#, "{\"\u{212A}\":1}",
        ] {
            #expect(try !kernelWalkFinishes(Array(document.utf8)), "\(document)")
            compare(Array(document.utf8), document)
        }
        for document in [
            #"{"a":"[1]"}"#, #"{"k\u0065y":["Nightingale",{"b":null}]}"#, #""x""#, "[]",
            // Whitespace and dashes are matched as written: no need for the Swift walker.
            "{\"a\":\"Project\u{00A0}Falcon\"}", #"{"a":"Project\u2013Falcon"}"#, "{\"a\":\"\u{3000}é\"}",
        ] {
            #expect(try kernelWalkFinishes(Array(document.utf8)), "\(document)")
            compare(Array(document.utf8), document)
        }
    }

    @Test func longStringsAndCorruptionsAcrossManyBlocksMatchTheReference() throws {
        var g = TestGenerator(state: 0xD1B5_4A32_D192_ED03)
        for round in 0..<600 {
            var document = Array(Self.document(&g, depth: 0, pieces: Self.plainPieces, keys: Self.plainKeys).utf8)
            if round % 3 == 0 { document.insert(0x01, at: g.below(document.count)) }
            // Long strings cross many 16-byte blocks, with specials and hits anywhere in them.
            if round % 2 == 0 {
                let long = (0..<g.below(40)).map { _ in Self.plainPieces[g.below(Self.plainPieces.count)] }.joined()
                document = Array(#"{"long":"\#(long)","d":"#.utf8) + document + Array("}".utf8)
            }
            compare(document, "round \(round)")
        }
    }

    /// A UTF-8 byte order mark in front of a document is cut before either walker runs: both read the same document
    /// and the mark leaves in front of the same output. Marks anywhere else are refused by both, alike.
    @Test func documentsAfterAByteOrderMarkMatchTheReference() throws {
        var g = TestGenerator(state: 0x7F4A_7C15_9E37_79B9)
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        var forwarded = 0
        for round in 0..<600 {
            let plain = round % 2 == 0
            let document = Array(
                (plain
                    ? Self.document(&g, depth: 0, pieces: Self.plainPieces, keys: Self.plainKeys)
                    : Self.document(&g, depth: 0)).utf8
            )
            let outcome = compare(bom + document, "round \(round)")
            let unmarked = compare(document, "round \(round) without the mark")
            switch (outcome, unmarked) {
            case (.forward(let body, let findings), .forward(let expected, let expectedFindings)):
                #expect(body == bom + expected && findings == expectedFindings, "round \(round)")
                forwarded += 1
            case (.block(let rule, _, _), .block(let expected, _, _)):
                #expect(rule == expected, "round \(round)")
            default:
                Issue.record("round \(round): \(outcome) with the mark, \(unmarked) without")
            }
            let at = 1 + g.below(document.count)
            compare(Array(document[..<at]) + bom + Array(document[at...]), "round \(round), a mark inside")
        }
        #expect(forwarded > 500)
    }

    func kernelWalkFinishes(_ document: [UInt8]) throws -> Bool {
        try AirlockRedactionTests.kernelWalkFinishes(fast, document)
    }

    @Test func corruptedDocumentsAreRefusedExactlyLikeTheReference() throws {
        var g = TestGenerator(state: 0x2545_F491_4F6C_DD1D)
        let corruptions: [[UInt8]] = [
            [0x01], [0x1F], [0x0A], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],
            [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0x80], Array(#"\ud800"#.utf8), Array(#"\udc00x"#.utf8),
            Array(#"\x"#.utf8), Array(#"\u12"#.utf8), Array(#"\"#.utf8), Array(#"""#.utf8),
        ]
        var refused = 0
        for round in 0..<1500 {
            var document = Array(Self.document(&g, depth: 0).utf8)
            if round % 5 == 0 {
                document.removeLast(1 + g.below(min(document.count, 40)))
            } else {
                let at = g.below(document.count)
                document.insert(contentsOf: corruptions[g.below(corruptions.count)], at: at)
            }
            if case .uninspectable = compare(document, "round \(round)") { refused += 1 }
        }
        #expect(refused > 500, "most corruptions should be refused")
    }

    @Test func hitsAndSpecialsAtEveryAlignmentMatchTheReference() throws {
        let specials = [
            #"\n"#, #"\""#, "é", "😀", #"\u00e9"#, "\u{200B}", "x", "\u{00A0}", #"\u00a0"#, "\u{FB01}", #"\uff21"#,
        ]
        for before in 0..<70 {
            for special in specials {
                for after in [0, 1, 15, 16, 17, 31, 32, 33] {
                    let pad = String(repeating: "a", count: before)
                    let tail = String(repeating: "b", count: after)
                    for text in [
                        "\(pad)\(special)Nightingale \(tail)", "\(pad) Nightingale\(special)\(tail)",
                        "\(pad)\(special)\(tail)", "\(pad)ana@lab.example.com\(special)\(tail)",
                    ] {
                        _ = compare(Array(#"{"k\#(tail)":"\#(text)","\#(pad)":["\#(text)"]}"#.utf8), text)
                    }
                }
            }
        }
    }

    /// Both engines' outcomes for `body`, which must agree exactly (`compareEngines`); returns the kernel's.
    @discardableResult
    func compare(
        _ body: [UInt8],
        _ what: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> RedactionOutcome {
        compareEngines(fast, reference, body, what, sourceLocation: sourceLocation)
    }

    static func string(_ g: inout TestGenerator, pieces: [String] = pieces) -> String {
        var out = String(repeating: "a", count: g.below(3) == 0 ? g.below(40) : 0)
        for _ in 0..<g.below(6) {
            out += pieces[g.below(pieces.count)]
            if g.below(2) == 0 { out += String(repeating: "z", count: g.below(20)) + " " }
        }
        return "\"" + out + "\""
    }

    static func document(
        _ g: inout TestGenerator,
        depth: Int,
        pieces: [String] = pieces,
        keys: [String] = keys
    ) -> String {
        let ws = ["", " ", "\n  ", "\t", "\r\n"]
        func w(_ g: inout TestGenerator) -> String { g.below(4) == 0 ? ws[g.below(ws.count)] : "" }
        switch depth > 3 ? 4 + g.below(4) : g.below(8) {
        case 0, 1:
            let members = (0..<g.below(5)).map { _ in
                let value = document(&g, depth: depth + 1, pieces: pieces, keys: keys)
                return "\(w(&g))\"\(keys[g.below(keys.count)])\"\(w(&g)):\(w(&g))\(value)\(w(&g))"
            }
            return "{" + members.joined(separator: ",") + "}"
        case 2, 3:
            let elements = (0..<g.below(5)).map { _ in
                w(&g) + document(&g, depth: depth + 1, pieces: pieces, keys: keys) + w(&g)
            }
            return "[" + elements.joined(separator: ",") + "]"
        case 4:
            return Self.scalars[g.below(Self.scalars.count)]
        default:
            return string(&g, pieces: pieces)
        }
    }
}
