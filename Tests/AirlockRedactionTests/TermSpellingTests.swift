import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The spellings a term matches beyond the ones written in the policy: words separated by any whitespace run or any
/// dash, and compatibility forms read as their NFKC form (`TermVariants.gapExpression`, `UTF8Text.foldedLength`),
/// while every byte outside a match leaves exactly as it came. The lookalikes that must stay are here too.
@Suite struct TermSpellingTests {
    static let redactor = try! makeRedactor(
        makePolicy(terms: [
            codenames,
            TermRule(
                id: "models",
                label: "MODEL",
                action: .redact,
                values: ["Tidewater", "Kestrel", "Mission Falcon", "Flamingo"]
            ),
            TermRule(
                id: "customers",
                label: "CUSTOMER",
                action: .redact,
                values: ["Bramblewood Analytics", "Acme-Fields"],
                caseSensitive: true,
                variants: false
            ),
            TermRule(id: "finance", label: "FIN", action: .redact, values: ["Fiscal Shift"]),
        ])
    )

    /// Whitespace runs between the words of `Project Falcon`.
    static let whitespace = [
        "\u{00A0}", "\u{2007}", "\u{202F}", "\t", "\n", "\r\n", "   ", "\u{3000}", "\u{2003}", " \u{00A0}\t",
        "\u{2028}", "\u{0085}",
    ]
    /// Hyphens and dashes, alone and with spaces around them.
    static let dashes = [
        "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}", "\u{FE58}", "\u{FE63}",
        "\u{FF0D}", " - ", " \u{2014} ", "\u{00A0}\u{2013}\u{00A0}",
    ]

    @Test(arguments: whitespace + dashes)
    func anyWhitespaceRunOrDashSeparatesTheWords(_ gap: String) throws {
        for spelling in ["Project\(gap)Falcon", "project\(gap)FALCON"] {
            #expect(
                forwarded(Self.redactor, "about \(spelling), then", type: "text/plain")
                    == "about [REDACTED:CODENAME], then",
                "\(spelling.unicodeScalars.map { String($0.value, radix: 16) })"
            )
            let json = try JSONEncoderHelper.json(["t": "about \(spelling), then"])
            let outcome = Self.redactor.redact(
                body: json,
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "v"
            )
            #expect(
                outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) }
                    == #"{"t":"about [REDACTED:CODENAME], then"}"#
            )
        }
    }

    @Test func escapedSpellingsInJSONMatchToo() {
        for escaped in [#"\u00a0"#, #"\u00A0"#, #"\n"#, #"\r\n"#, #"\t"#, #"\u2013"#, #"\u3000"#, #"\u202f"#] {
            #expect(
                forwarded(Self.redactor, #"{"t":"Project\#(escaped)Falcon!"}"#) == #"{"t":"[REDACTED:CODENAME]!"}"#,
                "\(escaped)"
            )
        }
        // In a key too, and in a JSON document inside a string.
        #expect(forwarded(Self.redactor, #"{"Project\u00a0Falcon":1}"#) == #"{"[REDACTED:CODENAME]":1}"#)
        #expect(
            forwarded(Self.redactor, #"{"row":"{\"p\":\"Project\\u00a0Falcon\"}"}"#)
                == #"{"row":"{\"p\":\"[REDACTED:CODENAME]\"}"}"#
        )
    }

    @Test func anExactSpellingTermMatchesItsOwnSeparatorsWrittenAnyWay() {
        for spelling in [
            "Bramblewood\u{00A0}Analytics", "Bramblewood\n  Analytics", "Acme\u{2011}Fields", "Acme\u{2013}Fields",
        ] {
            #expect(forwarded(Self.redactor, "x \(spelling) y", type: "text/plain") == "x [REDACTED:CUSTOMER] y")
        }
        // Still exact otherwise: case, other separators, a dash for a space.
        for spelling in [
            "bramblewood analytics", "Bramblewood-Analytics", "Bramblewood_Analytics", "Acme Fields", "AcmeFields",
        ] {
            #expect(forwarded(Self.redactor, "x \(spelling) y", type: "text/plain") == "x \(spelling) y")
        }
    }

    @Test(arguments: [
        ("\u{FB01}scal Shift", "ligature fi"),
        ("\u{FB02}amingo", "ligature fl"),
        ("\u{FF26}\u{FF49}\u{FF53}\u{FF43}\u{FF41}\u{FF4C} Shift", "fullwidth"),
        ("\u{212A}estrel", "Kelvin sign"),
        ("Mi\u{017F}\u{017F}ion Falcon", "long s"),
        ("\u{1D40D}ightingale", "mathematical bold N"),
        ("Ti\u{0064}ewa\u{1D42D}er", "mathematical bold t"),
        ("Night\u{200B}ingale", "zero-width space"),
        ("\u{FF2E}\u{FF29}\u{FF27}\u{FF28}\u{FF34}\u{FF29}\u{FF2E}\u{FF27}\u{FF21}\u{FF2C}\u{FF25}", "fullwidth caps"),
    ])
    func compatibilityFormsFold(_ spelling: String, _ what: String) throws {
        let out = try #require(forwarded(Self.redactor, "a \(spelling) b", type: "text/plain"), "\(what)")
        #expect(out.hasPrefix("a [REDACTED:") && out.hasSuffix("] b"), "\(what): \(out)")
        let json = try #require(forwarded(Self.redactor, #"{"t":"a \#(spelling) b"}"#), "\(what)")
        #expect(json.hasPrefix(#"{"t":"a [REDACTED:"#) && json.hasSuffix(#"] b"}"#), "\(what): \(json)")
    }

    @Test func bytesOutsideAMatchLeaveExactlyAsTheyCame() {
        // Compatibility forms, invisible characters and odd spaces around the match are not normalised on the way out.
        let input =
            "\u{FB01}ne \u{FF21}\u{00A0}x\u{200B}y\u{212A} \u{FB01}scal\u{00A0}\u{2014} Shift \u{017F}o\u{3000}z"
        #expect(
            forwarded(Self.redactor, input, type: "text/plain")
                == "\u{FB01}ne \u{FF21}\u{00A0}x\u{200B}y\u{212A} [REDACTED:FIN] \u{017F}o\u{3000}z"
        )
        #expect(
            forwarded(Self.redactor, "{\"t\":\"\u{FB01}ne Project\u{00A0}Falcon \u{FF21}\u{200B}\"}")
                == "{\"t\":\"\u{FB01}ne [REDACTED:CODENAME] \u{FF21}\u{200B}\"}"
        )
        // A string with an escape keeps the escapes of what did not change (`JSONStringRewrite`); the strings
        // around it leave as they came.
        #expect(
            forwarded(Self.redactor, #"{"a":"\ufb01ne","t":"Project\u00a0Falcon \uff21"}"#)
                == #"{"a":"\ufb01ne","t":"[REDACTED:CODENAME] \uff21"}"#
        )
    }

    @Test(arguments: [
        "Project Falconry", "Projects Falcon", "Project -- Falcon", "Project - - Falcon",
        "Project\u{2014}\u{2014}Falcon",
        "Project/Falcon", "Project,Falcon", "Project\u{00B7}Falcon", "Nightingales", "\u{FB01}ne", "xNightingale",
        "Kestrels", "Project\n\nmore words\nFalcon",
    ])
    func lookalikesStay(_ text: String) {
        #expect(forwarded(Self.redactor, "a \(text) b", type: "text/plain") == "a \(text) b")
    }

    @Test func aSpellingLeavesAsASealedTokenAndComesBackLetterForLetter() throws {
        let redactor = try makeRedactor(
            makePolicy(terms: [
                TermRule(
                    id: "codenames",
                    label: "CODENAME",
                    action: .pseudonymize,
                    values: ["Project Falcon", "Kestrel"]
                )
            ])
        )
        for spelling in ["Project\u{00A0}Falcon", "Project\u{2013}Falcon", "\u{212A}estrel", "Project\r\nFalcon"] {
            let json = try JSONEncoderHelper.json(["t": "a \(spelling) b"])
            let outcome = redactor.redact(
                body: json,
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "v"
            )
            let body = try #require(outcome.forwardedBody)
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.contains("CODENAME_") && !text.contains("Falcon") && !text.contains("estrel"), "\(text)")
            let restored = try redactor.restore(
                body: body,
                contentType: "application/json",
                contentEncoding: nil,
                vendor: "v"
            )
            let object = try JSONSerialization.jsonObject(with: Data(restored)) as? [String: String]
            #expect(object?["t"] == "a \(spelling) b")
        }
    }
}
