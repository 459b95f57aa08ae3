import AirlockPolicy
import CAirlockSIMD
import Foundation
import Testing

@testable import AirlockRedaction

/// A bounded differential fuzz of the whole-document C walk (`CAirlockSIMD_json_walk`, through `JSONKernelWalk`)
/// against the Swift reference walker: generated documents are mutated (bit flips, bytes set to JSON's special
/// values, insertions, deletions, truncations, duplicated and moved fragments) and both engines must agree exactly:
/// the same forwarded bytes and findings, or the same refusal with the same reason. A document the C walk finishes
/// must be one the reference accepts: anything else would be forwarded uninspected.
@Suite struct JSONKernelFuzzTests {
    let fast: Redactor
    let reference: Redactor
    /// The same policy without `fields` rules: the C walk takes every plain document, keys included.
    let fastNoFields: Redactor
    let referenceNoFields: Redactor

    init() throws {
        let terms = [
            codenames,
            TermRule(id: "models", label: "MODEL", action: .pseudonymize, values: ["Tidewater", "Ünicorn"]),
        ]
        let patterns = [
            PatternRule(id: "quarter", label: "ROADMAP", action: .hash, regex: "Q[1-4] ?20[0-9]{2}"),
            // Hits inside numbers: the number leaves as a string of the redacted text.
            PatternRule(id: "run-id", label: "RUN", action: .redact, regex: "8812[0-9]{2}"),
            PatternRule(id: "launch", label: "LAUNCH", action: .mask, regex: "L[0-9]{3}", near: ["launch date"]),
        ]
        let detectors = [DetectorRule(kind: .email, action: .pseudonymize)]
        let policy = makePolicy(
            terms: terms,
            patterns: patterns,
            detectors: detectors,
            fields: [
                FieldRule(path: try JSONPath(parsing: "$..internal_notes"), action: .drop),
                FieldRule(path: try JSONPath(parsing: "$..run_id"), action: .hash),
            ],
            allow: ["Project Gutenberg"]
        )
        let plain = makePolicy(terms: terms, patterns: patterns, detectors: detectors, allow: ["Project Gutenberg"])
        fast = try makeRedactor(policy)
        reference = try makeRedactor(policy, stringKernel: false)
        fastNoFields = try makeRedactor(plain)
        referenceNoFields = try makeRedactor(plain, stringKernel: false)
    }

    /// Fragments a mutation inserts: structure, escapes, literal and number prefixes, invisible characters, bytes
    /// that are not UTF-8, terms.
    static let fragments: [[UInt8]] =
        [
            "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "\t", "\r", "\\u", "\\u00", "\\ud83d", "\\ude00",
            "\\ud800", "\\u200b", "\\u0000", "\\/", "\\\"", "tru", "true", "nul", "null", "nulls", "fals", "-", "-0",
            "01", "1e5", "1.", ".5", "1e", "881234", "-8812345", "8812.34e881234", "[881234]", ":881234,",
            "Nightingale", "Project Falcon", "ana@lab.example.com", "Q3 2026",
            "\u{200B}", "\u{FEFF}", "\u{00AD}", "é", "😀", "\"Nightingale\"", "{\"a\":\"b\"}", "[\"x\",1]",
            "{\\\"a\\\":\\\"Nightingale\\\"}", "\"k\\u0065y\":", "\"\\n{\\\"internal_notes\\\":\\\"x\\\"}\"",
            "\"\\u007b\\\"a\\\":\\\"Nightingale\\\"}\"", "\\t[", "\\u005b",
            // Embedded payloads (the C walk hands them back) and look-alikes.
            "data:", "DATA:,Night%69ngale", "data:text/plain;base64,TmlnaHRpbmdhbGU=", "TmlnaHRpbmdhbGU=",
            JSONKernelEquivalenceTests.payloadPieces[3], JSONKernelEquivalenceTests.payloadPieces[6],
        ].map { Array($0.utf8) } + [
            [0x00], [0x01], [0x1F], [0x7F], [0x80], [0xBF], [0xC0, 0xAF], [0xC2], [0xC2, 0xAD], [0xE2, 0x80],
            [0xE2, 0x80, 0x8B], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80],
            [0xF5], [0xFF],
        ]

    /// Bytes a mutation sets: the ones the walk branches on.
    static let interesting: [UInt8] =
        Array("\"\\{}[],: \n\t\r0123456789-+.eEtfnulrsa/bu".utf8) + [
            0x00, 0x01, 0x1F, 0x20, 0x7F, 0x80, 0xA0, 0xAD, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4,
            0xF5, 0xFF,
        ]

    static func mutate(_ document: inout [UInt8], _ g: inout TestGenerator) {
        for _ in 0..<(1 + g.below(3)) {
            let count = document.count
            switch g.below(9) {
            case 0 where count > 0:
                document[g.below(count)] ^= UInt8(1 << g.below(8))
            case 1 where count > 0:
                document[g.below(count)] = interesting[g.below(interesting.count)]
            case 2:
                document.insert(contentsOf: fragments[g.below(fragments.count)], at: g.below(count + 1))
            case 3 where count > 0:
                let at = g.below(count)
                document.removeSubrange(at..<min(count, at + 1 + g.below(8)))
            case 4 where count > 0:
                document.removeLast(1 + g.below(min(count, 24)))
            case 5 where count > 0:
                // A fragment duplicated in place or moved elsewhere: repeated keys, members, unbalanced brackets.
                let at = g.below(count)
                let piece = Array(document[at..<min(count, at + 1 + g.below(24))])
                document.insert(contentsOf: piece, at: g.below(2) == 0 ? at : g.below(count + 1))
            case 6:
                document.insert(interesting[g.below(interesting.count)], at: g.below(count + 1))
            case 7:
                // Padding, so specials land on every offset around the 16-byte blocks.
                document.insert(contentsOf: Array("\",".utf8), at: 0)
                document.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: g.below(33)), at: 0)
                document.insert(contentsOf: Array("[\"".utf8), at: 0)
                document.append(UInt8(ascii: "]"))
            default:
                if count > 1 {
                    let at = g.below(count - 1)
                    document.swapAt(at, at + 1)
                }
            }
        }
    }

    /// A new seed every run (printed), so runs together cover more than one fixed sequence; AIRLOCK_FUZZ_SEED=N
    /// replays run N.
    @Test func mutatedDocumentsMatchTheReference() throws {
        var walked = 0
        var refused = 0
        var forwardedChanged = 0
        // AIRLOCK_FUZZ_ROUNDS runs a longer fuzz by hand; the default stays well within a few seconds.
        // 5,000 a run (a new seed each run): the suite runs its tests in parallel on two cores, and this test's CPU
        // starved the proxy tests' servers. Longer runs: AIRLOCK_FUZZ_ROUNDS, and the libFuzzer targets (Fuzz/).
        let rounds = ProcessInfo.processInfo.environment["AIRLOCK_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 5000
        let seed =
            ProcessInfo.processInfo.environment["AIRLOCK_FUZZ_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max)
        print("JSONKernelFuzzTests: seed \(seed) (replay with AIRLOCK_FUZZ_SEED=\(seed))")
        var g = TestGenerator(state: seed)
        for round in 0..<rounds {
            let plain = g.below(2) == 0
            let pieces = plain ? JSONKernelEquivalenceTests.plainPieces : JSONKernelEquivalenceTests.pieces
            // Keys as long and as varied as values, terms in them too, besides the usual short ones.
            let keys =
                (plain ? JSONKernelEquivalenceTests.plainKeys : JSONKernelEquivalenceTests.keys)
                + (0..<3).map { _ in
                    String(JSONKernelEquivalenceTests.string(&g, pieces: pieces).dropFirst().dropLast())
                }
            var document = Array(JSONKernelEquivalenceTests.document(&g, depth: 0, pieces: pieces, keys: keys).utf8)
            // A quarter stay whole, so the C walk also finishes documents with hits; the rest are mutated.
            if g.below(4) != 0 { Self.mutate(&document, &g) }
            // A byte order mark in front, which both engines cut before walking.
            if g.below(8) == 0 { document.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: 0) }
            let withFields = g.below(2) == 0
            let (a, b) = withFields ? (fast, reference) : (fastNoFields, referenceNoFields)
            if try kernelWalkFinishes(a, document) {
                walked += 1
                // Whatever the C walk finishes, the reference must accept: never forwarded unparsed.
                let outcome = reference.redact(
                    body: document,
                    contentType: "application/json",
                    contentEncoding: nil,
                    vendor: "scale"
                )
                if case .uninspectable(let reason, _) = outcome {
                    Issue.record(
                        "seed \(seed) round \(round): the C walk finished a document the reference refuses: \(reason)"
                    )
                }
            }
            switch compareEngines(a, b, document, "seed \(seed) round \(round)") {
            case .uninspectable: refused += 1
            case .forward(let body, _) where body != document: forwardedChanged += 1
            default: break
            }
        }
        #expect(walked > rounds / 5, "the C walk should finish many of the documents (\(walked), seed \(seed))")
        #expect(refused > rounds / 4, "many mutations should be refused (\(refused))")
        #expect(forwardedChanged > rounds / 10, "many documents should be redacted (\(forwardedChanged))")
    }

    /// Documents at the edges the walk must get right, each compared with the reference.
    @Test func edgeCaseDocumentsMatchTheReference() throws {
        let documents: [String] = [
            #""x""#, "42", "-0", "1e5", "1E+5", "-12.5e-3", "01", "-", "1.", ".5", "1e", "true", "tru", "nulls",
            "null", "false ", " \n\t\r\"Nightingale\"\n", #""""#, "{}", "[]", "[ ]", "{ }", #"{"":""}"#,
            #"{"":"Nightingale"}"#, #"{"Nightingale":"Nightingale","Nightingale":1}"#, #"["Nightingale""#,
            #""Nightingale"#, #""Nightingale\"#, "\"Nightingale\u{0}\"", #""Night\u0000ingale""#,
            #""Night\/ingale\/""#, #"{"k\u0065y":"\u004eightingale"}"#, #"{"a":"Night\u200Bingale"}"#,
            "{\"a\":\"Night\u{200B}ingale\"}", "{\"a\":\"Night\u{FEFF}ingale\"}", "{\"a\":\"Night\u{00AD}ingale\"}",
            "{\"a\":\"Night\u{2060}ingale\"}", "{\"Night\u{200D}ingale\":1}", #"{"Night\u2060ingale":1}"#,
            "\u{FEFF}{\"a\":\"Nightingale\"}", #"{"a":"Nightingale"} x"#, #"{"a":"Nightingale"}}"#,
            #"{"a":"Nightingale"},"#, #"[1,]"#, #"{"a":1,}"#, #"{"a" 1}"#, #"{"a":}"#, #"[,1]"#,
            #"{"row_data":"{\"text\":\"Nightingale\"}"}"#, #"{"row_data":" [{\"t\":\"Project Falcon\"}]"}"#,
            #"{"row_data":"[\"Nightingale\"]"}"#, #"{"internal_notes":"Nightingale","b":"Nightingale"}"#,
            #"{"run_id":"Nightingale"}"#, #"{"run\u005fid":"Nightingale"}"#, #""\ud83d\ude00Nightingale""#,
            #""\ud83dNightingale""#, #""\ude00Nightingale""#, #""\ud83d\u0041""#, "881234", "-881234.5e-881234",
            "[881234,\"881234\",{\"881234\":881234}]", #"{"internal_notes":881234,"run_id":881234,"a":-0.881234}"#,
            "881234 ", "[88123]", "8812345x", "-881234.", "881234e",
        ]
        for document in documents {
            compareEngines(fast, reference, Array(document.utf8), document)
            compareEngines(fastNoFields, referenceNoFields, Array(document.utf8), document)
        }
        let raw: [[UInt8]] = [
            [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x80, 0x22], [0x22, 0xC2, 0x22], [0x22, 0x7F, 0x22],
            [0x00], [0x22, 0x00, 0x22], [0x5B, 0x00, 0x5D], [0xEF, 0xBB, 0xBF, 0x22, 0x61, 0x22],
        ]
        for document in raw {
            compareEngines(fast, reference, document, "\(document)")
            compareEngines(fastNoFields, referenceNoFields, document, "\(document)")
        }
    }

    /// A surrogate pair, an invisible character and a term split at every offset around the 16-byte blocks, in
    /// keys and values, at the very end of the buffer too.
    @Test func escapesSplitAcrossBlocksMatchTheReference() throws {
        let specials = [
            #"\ud83d\ude00"#, #"\u200b"#, "\u{200B}", #"\u004e"#, "é", "😀", #"\""#, #"\\"#, #"\u0000"#, "\u{FEFF}",
        ]
        for before in 0..<40 {
            let pad = String(repeating: "a", count: before)
            for special in specials {
                for document in [
                    #""\#(pad)\#(special)Nightingale""#, #"["\#(pad)Night\#(special)ingale"]"#,
                    #"{"\#(pad)\#(special)":"\#(pad)Nightingale\#(special)"}"#, #"{"\#(pad)":"\#(special)"}"#,
                    #"{"\#(pad)\#(special)Nightingale":1,"\#(pad)Night\#(special)ingale":[]}"#,
                ] {
                    compareEngines(fastNoFields, referenceNoFields, Array(document.utf8), document)
                    // Cut short inside the string: never forwarded.
                    let cut = Array(document.utf8.dropLast(1 + before % 3))
                    if case .forward = compareEngines(fastNoFields, referenceNoFields, cut, document) {
                        Issue.record("a truncated document was forwarded: \(document)")
                    }
                }
            }
        }
    }

    /// Documents denser than the walk's first guess of segments and path nodes (walked again with more room), nested
    /// to the depth limit and past it, and JSON documents inside strings nested past the nesting limit.
    @Test func denseDeepAndNestedDocumentsMatchTheReference() throws {
        var documents: [[UInt8]] = []
        documents.append(
            Array(("[" + Array(repeating: #""Nightingale","a""#, count: 600).joined(separator: ",") + "]").utf8)
        )
        documents.append(
            Array(("[" + Array(repeating: "[[],{}]", count: 600).joined(separator: ",") + ",\"Nightingale\"]").utf8)
        )
        documents.append(Array(("{" + (0..<400).map { #""k\#($0)":"Nightingale""# }.joined(separator: ",") + "}").utf8))
        for depth in [1, 511, 512, 513, 2000] {
            documents.append(
                Array(
                    (String(repeating: "[", count: depth - 1) + #"["Nightingale"]"#
                        + String(repeating: "]", count: depth - 1)).utf8
                )
            )
            documents.append(
                Array(
                    (String(repeating: #"{"Nightingale":"#, count: depth) + "1"
                        + String(repeating: "}", count: depth)).utf8
                )
            )
        }
        var nested: [UInt8] = Array(#"{"text":"Nightingale"}"#.utf8)
        for level in 0..<7 {
            nested =
                Array(#"{"row_data":""#.utf8) + JSONRedactor.encodeString(nested) + Array(#"","l":\#(level)}"#.utf8)
            documents.append(nested)
            documents.append([UInt8(ascii: "\"")] + JSONRedactor.encodeString(nested) + [UInt8(ascii: "\"")])
        }
        for document in documents {
            let what = String(decoding: document.prefix(80), as: UTF8.self)
            compareEngines(fast, reference, document, what)
            compareEngines(fastNoFields, referenceNoFields, document, what)
        }
        #expect(try kernelWalkFinishes(fastNoFields, documents[0]), "dense documents are walked again with room")
        #expect(try kernelWalkFinishes(fastNoFields, documents[1]))
    }

    /// `fields` rules on odd keys (empty, with a space, a quote or non-ASCII, long ones): the C walk hands back every
    /// member such a rule may select, and both engines drop or hash the same members.
    @Test func fieldRulesOnOddKeysMatchTheReference() throws {
        let long = String(repeating: "k", count: 70)
        let policy = makePolicy(
            terms: [codenames],
            fields: [
                FieldRule(path: try JSONPath(parsing: "$['']"), action: .drop),
                FieldRule(path: try JSONPath(parsing: "$..['a b']"), action: .hash),
                FieldRule(path: try JSONPath(parsing: #"$..['q"t']"#), action: .drop),
                FieldRule(path: try JSONPath(parsing: "$..é"), action: .redact),
                FieldRule(path: try JSONPath(parsing: "$..\(long)"), action: .drop),
            ]
        )
        let a = try makeRedactor(policy)
        let b = try makeRedactor(policy, stringKernel: false)
        for document in [
            #"{"":"Nightingale","a":"Nightingale"}"#, #"{"x":{"":"y"},"":1}"#, #"{"a b":"Nightingale","a c":"x"}"#,
            #"{"a\u0020b":"Nightingale"}"#, #"{"q\"t":"Nightingale","q":"t"}"#, #"{"é":"x","\u00e9":"y","e":"z"}"#,
            #"{"\#(long)":"Nightingale","\#(long)k":"Nightingale"}"#, #"[{"":[{"a b":{"é":"Nightingale"}}]}]"#,
        ] {
            let outcome = compareEngines(a, b, Array(document.utf8), document)
            if case .forward(let body, _) = outcome {
                #expect(body != Array(document.utf8), "a field rule applies in \(document)")
            }
        }
    }

    /// Offsets are 32-bit: a document of 2 GiB or more is handed back before a byte of it is read (the buffers here
    /// are far smaller than the counts claimed, so any read past them would fault).
    @Test func documentsOf2GiBAndMoreAreHandedBackUnread() throws {
        let small: [UInt8] = Array(#"["x"]"#.utf8)
        var options = CAirlockSIMD_JSONWalkOptions(
            field_key_lengths: 0,
            field_key_bytes: nil,
            field_key_counts: nil,
            field_key_count: 0,
            nested_allowed: 1,
            max_depth: 512,
            min_number_length: 1
        )
        var text = [UInt8](repeating: 0, count: 64)
        var segments = [CAirlockSIMD_JSONSegment](repeating: CAirlockSIMD_JSONSegment(), count: 4)
        var nodes = [CAirlockSIMD_JSONNode](repeating: CAirlockSIMD_JSONNode(), count: 4)
        for claimed in [1 << 31, (1 << 31) + 5, 1 << 32, (1 << 32) + 5, Int.max] {
            var textCount = 0
            var segmentCount = 0
            var nodeCount = 0
            let status = small.withUnsafeBufferPointer { p in
                CAirlockSIMD_json_walk(
                    p.baseAddress!,
                    claimed,
                    &options,
                    &text,
                    &textCount,
                    &segments,
                    4,
                    &segmentCount,
                    &nodes,
                    4,
                    &nodeCount
                )
            }
            #expect(status == CAIRLOCK_WALK_FALLBACK, "\(claimed)")
            #expect(textCount == 0 && segmentCount == 0 && nodeCount == 0)
        }
        try withTestSession(fast) { session in
            try small.withUnsafeBufferPointer { p in
                try text.withUnsafeMutableBufferPointer { t in
                    for claimed in [1 << 31, 1 << 32] {
                        let result = try JSONKernelWalk.redact(
                            UnsafeBufferPointer(start: p.baseAddress, count: claimed),
                            session: session,
                            text: UnsafeMutableBufferPointer(start: t.baseAddress, count: claimed + 17)
                        )
                        guard case .fallback = result else {
                            Issue.record("a \(claimed)-byte document was not handed back")
                            continue
                        }
                    }
                }
            }
        }
    }
}
