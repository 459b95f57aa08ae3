import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// An oracle independent of both walkers: the body is decoded with Foundation's JSON parser, every string (keys and
/// values) is lowercased and split into words at anything that is not a letter or digit, and no planted term may
/// remain as a run of words ("Project Falcon", "project-falcon", "PROJECT_FALCON", "Project.Falcon") or as its words
/// joined ("ProjectFalcon"): the variants Policies/README.md documents. The walkers share matcher, session, actions
/// and encoder, so a bug in those passes the differential tests; it does not pass this.
@Suite struct JSONOracleTests {
    static let terms = ["Nightingale", "Project Falcon", "Tidewater"]
    let fast: Redactor
    let reference: Redactor

    init() throws {
        let rule = TermRule(id: "codenames", label: "CODENAME", action: .redact, values: Self.terms)
        fast = try makeRedactor(makePolicy(terms: [rule]))
        reference = try makeRedactor(makePolicy(terms: [rule]), stringKernel: false)
    }

    /// Every string in `json` (keys too), decoded by Foundation; nil when it does not parse.
    static func strings(in json: [UInt8]) -> [String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]) else {
            return nil
        }
        var found: [String] = []
        func walk(_ value: Any) {
            switch value {
            case let string as String: found.append(string)
            case let array as [Any]: array.forEach(walk)
            case let object as [String: Any]:
                for (key, member) in object {
                    found.append(key)
                    walk(member)
                }
            default: break
            }
        }
        walk(object)
        return found
    }

    static func printable(_ json: [UInt8]) -> String { String(decoding: json, as: UTF8.self) }

    /// The planted terms still readable in `text`.
    static func leaks(in text: String) -> [String] {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        return Self.terms.filter { term in
            let parts = term.lowercased().split(separator: " ").map(String.init)
            if words.contains(parts.joined()) { return true }
            guard words.count >= parts.count else { return false }
            return (0...(words.count - parts.count)).contains { Array(words[$0..<($0 + parts.count)]) == parts }
        }
    }

    /// What the oracle finds in what `redactor` forwards for `document` (a refusal forwards nothing: no leak).
    func oracleLeaks(_ redactor: Redactor, _ document: [UInt8]) -> [String] {
        let outcome = redactor.redact(
            body: document,
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        guard case .forward(let body, _) = outcome else { return [] }
        guard let strings = Self.strings(in: body) else {
            return ["(forwarded body does not parse: \(String(decoding: body, as: UTF8.self)))"]
        }
        return strings.flatMap(Self.leaks)
    }

    /// Spellings the README documents for each term, in keys and values, JSON-escaped or not.
    static func spelling(_ term: String, _ g: inout TestGenerator) -> String {
        let parts = term.split(separator: " ").map(String.init)
        let joined = parts.joined(separator: [" ", "-", "_", ".", ""][g.below(5)])
        switch g.below(4) {
        case 0: return joined
        case 1: return joined.uppercased()
        case 2: return joined.lowercased()
        default: return joined + ["'s", "-v3", "-7B"][g.below(3)]
        }
    }

    static let filler = ["alpha", "rank", "the", "answers", "before", "launch", "tone", "q3", "batch", "7", "label"]

    /// A JSON string literal for `text`, some characters escaped as \uXXXX.
    static func literal(_ text: String, _ g: inout TestGenerator) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar.value < 0x20 || g.below(6) == 0 {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func text(_ g: inout TestGenerator) -> String {
        (0..<(1 + g.below(6))).map { _ in
            g.below(3) == 0 ? spelling(terms[g.below(terms.count)], &g) : filler[g.below(filler.count)]
        }.joined(separator: [" ", ", ", ": ", " (", "\t"][g.below(5)])
    }

    static func document(_ g: inout TestGenerator, depth: Int = 0) -> String {
        switch depth > 2 ? 0 : g.below(3) {
        case 0: return literal(text(&g), &g)
        case 1: return "[" + (0..<g.below(4)).map { _ in document(&g, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            return "{"
                + (0..<g.below(4)).map { _ in literal(text(&g), &g) + ":" + document(&g, depth: depth + 1) }
                .joined(separator: ",") + "}"
        }
    }

    @Test func plantedTermsAreGoneFromEveryDecodedString() throws {
        let seed =
            ProcessInfo.processInfo.environment["AIRLOCK_FUZZ_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max)
        print("JSONOracleTests: seed \(seed) (replay with AIRLOCK_FUZZ_SEED=\(seed))")
        var g = TestGenerator(state: seed)
        var planted = 0
        for round in 0..<2000 {
            let document = Array(Self.document(&g).utf8)
            let before = Self.strings(in: document)
            try #require(before != nil, "the generator made invalid JSON: \(String(decoding: document, as: UTF8.self))")
            if !(before ?? []).flatMap(Self.leaks).isEmpty { planted += 1 }
            for (name, redactor) in [("fast", fast), ("reference", reference)] {
                let leaks = oracleLeaks(redactor, document)
                #expect(
                    leaks.isEmpty,
                    "seed \(seed) round \(round), \(name): \(leaks) left in \(Self.printable(document))"
                )
            }
        }
        #expect(planted > 500, "the oracle must see the terms in what was sent (\(planted))")
    }

    /// The oracle itself sees every documented spelling (so an empty result above means something).
    @Test func theOracleSeesEveryDocumentedSpelling() {
        for text in [
            "Nightingale", "NIGHTINGALE's", "nightingale-v3", "Project Falcon", "project-falcon", "PROJECT_FALCON",
            "Project.Falcon", "ProjectFalcon", "see Tidewater-7B.",
        ] {
            #expect(!Self.leaks(in: text).isEmpty, "\(text)")
        }
        #expect(Self.leaks(in: "Falconry projects nightingales").isEmpty)
    }

    /// A multi-word term whose words are separated by a line break or a tab is a spelling a reader (and the vendor)
    /// sees as the term (both walkers let it through before any whitespace run counted as a separator).
    @Test func aMultiWordTermSplitByALineBreak() {
        for document in [#"{"t": "Project\nFalcon"}"#, #"{"t": "Project\r\nFalcon"}"#, #"{"t": "Project\tFalcon"}"#] {
            for redactor in [fast, reference] {
                let leaks = oracleLeaks(redactor, Array(document.utf8))
                #expect(leaks.isEmpty, "\(leaks) left in \(document)")
            }
        }
    }
}
