import Foundation
import Testing

@testable import AirlockRedaction

/// Embedded payloads in the equivalence corpus: the C walk hands back every document with a string that may hold one
/// (`data:` anywhere, a run of 256 base64 characters), so both walkers decide them identically; documents with only
/// look-alikes (short base64, hashes, prose) stay on the C walk.
extension JSONKernelEquivalenceTests {
    static let text = Array("Nightingale ships in Q3 2026 for ana@lab.example.com, ".utf8)

    /// Payloads, and pieces that only look like one.
    static let payloadPieces: [String] = [
        "data:text/plain;base64," + EmbeddedFixtures.base64(text),
        "data:,Night%69ngale", "data:image/png;base64," + EmbeddedFixtures.base64(EmbeddedFixtures.png()),
        EmbeddedFixtures.base64(Array(repeating: text, count: 6).flatMap { $0 }),
        EmbeddedFixtures.urlSafeBase64(Array(repeating: text, count: 6).flatMap { $0 }),
        EmbeddedFixtures.base64(EmbeddedFixtures.pdf),
        EmbeddedFixtures.base64(EmbeddedFixtures.randomBytes(400, seed: 3)),
        "metadata: x", "DATA:", "TmlnaHRpbmdhbGU=", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        // A small PNG (a value of its own when it starts a string), and a look-alike of its start.
        EmbeddedFixtures.base64(EmbeddedFixtures.png()), "iVBORw0KGgo",
    ]

    @Test func documentsWithEmbeddedPayloadsMatchTheReference() throws {
        var g = TestGenerator(state: 0x0DA7_A0B6_4E3B_ED00)
        var refused = 0
        var changed = 0
        for round in 0..<600 {
            let pieces = Self.plainPieces + Self.payloadPieces
            let document = Array(Self.document(&g, depth: 0, pieces: pieces, keys: Self.plainKeys).utf8)
            switch compare(document, "round \(round)") {
            case .uninspectable: refused += 1
            case .forward(let body, _) where body != document: changed += 1
            default: break
            }
        }
        #expect(refused > 50 && changed > 100, "\(refused) refused, \(changed) changed")
    }

    @Test func theWholeDocumentWalkHandsOverStringsThatMayHoldAPayload() throws {
        let long = EmbeddedFixtures.base64(EmbeddedFixtures.randomBytes(192, seed: 4))
        #expect(long.count == 256)
        for document in [
            #"{"a":"data:,x"}"#, #"{"data:x":1}"#, #"["see DaTa:it"]"#, #"{"a":"\#(long)"}"#,
            #"{"a":"prefix \#(long) suffix"}"#, #"{"\#(long)":0}"#,
            #"{"a":"\#(long.prefix(128))\n\#(long.suffix(128))"}"#,
            #"{"a":"\#(long.prefix(200))\/\#(long.suffix(56))"}"#, #"{"a":"iVBORw0KGgoAAAAN"}"#,
            #"["H4sIAAAAAAAAA+0A"]"#,
        ] {
            #expect(try !kernelWalkFinishes(Array(document.utf8)), "\(document)")
            compare(Array(document.utf8), document)
        }
        for document in [
            #"{"a":"\#(long.dropLast())"}"#, #"{"a":"\#(long.prefix(128)) \#(long.suffix(128))"}"#,
            #"{"a":"data ata: dat:"}"#, #"["\#(long.prefix(200))","\#(long.suffix(200))"]"#,
            #"{"a":"iVBORw0KGgoAAAA"}"#,
            #"{"a":"x iVBORw0KGgoAAAAN"}"#,
            #"{"a":"\#(String(repeating: "ordinary words, ", count: 100))"}"#,
        ] {
            #expect(try kernelWalkFinishes(Array(document.utf8)), "\(document)")
            compare(Array(document.utf8), document)
        }
    }
}
