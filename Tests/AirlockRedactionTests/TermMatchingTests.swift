import AirlockPolicy
import Testing

@testable import AirlockRedaction

@Suite struct TermMatchingTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(
            makePolicy(terms: [
                codenames,
                TermRule(id: "models", label: "MODEL", action: .redact, values: ["Tidewater"]),
                TermRule(id: "unicode", label: "PASTRY", action: .redact, values: ["Éclair"]),
            ])
        )
    }

    @Test func replacesATermInAJSONStringAndCopiesTheRestVerbatim() {
        let out = forwarded(redactor, "{ \"text\" : \"We ship Nightingale soon\",\n  \"n\": 1.5e3 }")
        #expect(out == "{ \"text\" : \"We ship [REDACTED:CODENAME] soon\",\n  \"n\": 1.5e3 }")
    }

    @Test(arguments: ["NIGHTINGALE", "nightingale", "NiGhTiNgAlE"])
    func matchesAnyCase(_ spelling: String) {
        #expect(forwarded(redactor, "{\"t\":\"x \(spelling) y\"}") == #"{"t":"x [REDACTED:CODENAME] y"}"#)
    }

    @Test(arguments: ["Project Falcon", "project-falcon", "PROJECT_FALCON", "ProjectFalcon", "project.falcon"])
    func matchesMultiWordSeparatorVariants(_ spelling: String) {
        #expect(forwarded(redactor, "{\"t\":\"about \(spelling).\"}") == #"{"t":"about [REDACTED:CODENAME]."}"#)
    }

    @Test func matchesPossessive() {
        #expect(forwarded(redactor, #"{"t":"Nightingale's eval"}"#) == #"{"t":"[REDACTED:CODENAME]'s eval"}"#)
        #expect(
            forwarded(redactor, "{\"t\":\"Nightingale\u{2019}s eval\"}")
                == "{\"t\":\"[REDACTED:CODENAME]\u{2019}s eval\"}"
        )
    }

    @Test(arguments: [
        "Nightingale-v3", "nightingale-v3-instruct", "Tidewater-7B", "tidewater-7b-instruct", "Nightingale v2.1",
        "NightingaleV3",
    ])
    func includesVersionAndSizeSuffixes(_ spelling: String) throws {
        let out = try #require(forwarded(redactor, "{\"t\":\"run \(spelling) now\"}"))
        #expect(out.hasPrefix(#"{"t":"run [REDACTED:"#))
        #expect(out.hasSuffix(#"] now"}"#), "suffix left behind: \(out)")
    }

    @Test func doesNotMatchInsideLongerWords() {
        let input = #"{"t":"Nightingales and Tidewaterfront and xNightingale"}"#
        #expect(forwarded(redactor, input) == input)
    }

    @Test func decodesJSONEscapesBeforeMatching() throws {
        let out = try #require(forwarded(redactor, #"{"t":"Night\u0069ngale and Project\u0020Falcon\n"}"#))
        #expect(out == #"{"t":"[REDACTED:CODENAME] and [REDACTED:CODENAME]\n"}"#)
        #expect(isValidJSON(out))
    }

    @Test func zeroWidthCharactersDoNotHideATerm() throws {
        let json = try #require(forwarded(redactor, "{\"t\":\"a Night\u{200B}in\u{00AD}gale b\"}"))
        #expect(json == #"{"t":"a [REDACTED:CODENAME] b"}"#)
        let escaped = try #require(forwarded(redactor, #"{"t":"a Night\u200bingale b"}"#))
        #expect(escaped == #"{"t":"a [REDACTED:CODENAME] b"}"#)
        let text = try #require(forwarded(redactor, "Tide\u{2060}water\u{FEFF} rises", type: "text/plain"))
        #expect(text == "[REDACTED:MODEL]\u{FEFF} rises")
    }

    @Test func foldsUnicodeCase() {
        #expect(
            forwarded(redactor, #"{"t":"un ÉCLAIR et un éclair"}"#)
                == #"{"t":"un [REDACTED:PASTRY] et un [REDACTED:PASTRY]"}"#
        )
    }

    @Test func scansObjectKeys() {
        #expect(forwarded(redactor, #"{"Nightingale":{"score":1}}"#) == #"{"[REDACTED:CODENAME]":{"score":1}}"#)
    }

    @Test func caseSensitiveTermsMatchOnlyTheirSpelling() throws {
        let strict = try makeRedactor(
            makePolicy(terms: [
                TermRule(
                    id: "c",
                    label: "CUSTOMER",
                    action: .redact,
                    values: ["Bramblewood Analytics"],
                    caseSensitive: true,
                    variants: false
                )
            ])
        )
        #expect(forwarded(strict, #"{"t":"bramblewood analytics"}"#) == #"{"t":"bramblewood analytics"}"#)
        #expect(forwarded(strict, #"{"t":"Bramblewood-Analytics"}"#) == #"{"t":"Bramblewood-Analytics"}"#)
        #expect(forwarded(strict, #"{"t":"Bramblewood Analytics"}"#) == #"{"t":"[REDACTED:CUSTOMER]"}"#)
    }

    @Test func wholeWordFalseMatchesInsideWords() throws {
        let loose = try makeRedactor(
            makePolicy(terms: [TermRule(id: "p", label: "P", action: .redact, values: ["falcon"], wholeWord: false)])
        )
        #expect(forwarded(loose, #"{"t":"Falconry"}"#) == #"{"t":"[REDACTED:P]ry"}"#)
    }

    /// Compile time is a benchmark figure (airlock-redaction-bench), not a test assertion.
    @Test func compilesTenThousandTerms() throws {
        let values = (0..<10_000).map { "term\($0)x" + String(repeating: "q", count: $0 % 7) }
        let redactor = try makeRedactor(
            makePolicy(terms: [TermRule(id: "big", label: "BIG", action: .redact, values: values)])
        )
        #expect(forwarded(redactor, #"{"t":"see term9998xqq now"}"#) == #"{"t":"see [REDACTED:BIG] now"}"#)
    }
}
