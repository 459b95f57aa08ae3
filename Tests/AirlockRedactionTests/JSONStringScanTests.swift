import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The string scanner steps 16 bytes at a time and jumps to the first byte that needs a look: every kind of such
/// byte, at every offset of the step and across the step's end, must still be seen.
@Suite struct JSONStringScanTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(makePolicy(terms: [codenames]))
    }

    /// What may stand in a string (`raw`, as written in JSON), what a reader sees there (`decoded`), and how a
    /// string with a hit is re-encoded (`encoded`: an escape before the first change is kept as written).
    static let specials: [(raw: String, decoded: String, encoded: String)] = [
        (#"\""#, "\"", #"\""#), (#"\\"#, "\\", #"\\"#), (#"\n"#, "\n", #"\n"#), (#"\u0041"#, "A", #"\u0041"#),
        ("é", "é", "é"), ("€", "€", "€"), ("😀", "😀", "😀"),
    ]

    @Test func everySpecialByteIsSeenAtEveryOffset() throws {
        for (raw, decoded, encoded) in Self.specials {
            for before in 0..<34 {
                for after in [0, 1, 7, 8, 15, 16, 17] {
                    // The term right after the special: a missed escape would shift or hide it.
                    let prefix = String(repeating: "a", count: before)
                    let tail = String(repeating: "b", count: after)
                    let input = #"{"k":"\#(prefix)\#(raw) Nightingale \#(tail)"}"#
                    let out = try #require(forwarded(redactor, input))
                    let expected = #"{"k":"\#(prefix)\#(encoded) [REDACTED:CODENAME] \#(tail)"}"#
                    #expect(out == expected, "\(input)")
                    let value = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String]
                    #expect(value?["k"] == "\(prefix)\(decoded) [REDACTED:CODENAME] \(tail)")
                }
            }
        }
    }

    @Test func aControlCharacterOrAnUnterminatedStringIsRefusedAtEveryOffset() {
        for before in 0..<34 {
            let prefix = String(repeating: "a", count: before)
            for input in [#"{"k":"\#(prefix)"# + "\u{01}" + #"x"}"#, #"{"k":"\#(prefix)"#, #"{"k":"\#(prefix)\"#] {
                let outcome = redactor.redact(
                    body: Array(input.utf8),
                    contentType: "application/json",
                    contentEncoding: nil,
                    vendor: "scale"
                )
                #expect(outcome.isUninspectable, "\(input.debugDescription) was not refused: \(outcome)")
            }
        }
    }

    @Test func invalidUTF8IsRefusedAtEveryOffset() {
        for before in 0..<34 {
            var body = Array(#"{"k":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: before)
            body += [0xC3, 0x28] + Array(#"x"}"#.utf8)
            let outcome = redactor.redact(
                body: body,
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "v"
            )
            #expect(outcome.isUninspectable, "invalid UTF-8 after \(before) bytes was not refused")
        }
    }
}
