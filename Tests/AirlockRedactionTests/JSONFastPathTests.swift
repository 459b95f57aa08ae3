import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The JSON walker's fast paths: plain strings copied into the scan text without decoding, escaped strings and keys
/// decoded (keys into an arena), the field-rule key precheck, bulk re-encoding, and verbatim copy of everything else.
@Suite struct JSONFastPathTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(
            makePolicy(
                terms: [codenames],
                fields: [
                    FieldRule(path: try JSONPath(parsing: "$.metadata.internal_notes"), action: .drop),
                    FieldRule(path: try JSONPath(parsing: "$..run_id"), action: .redact),
                ]
            )
        )
    }

    @Test(arguments: [
        // A `\u` escape inside the term.
        (#"{"t":"Night\u0069ngale"}"#, #"{"t":"[REDACTED:CODENAME]"}"#),
        // `\n` is a word boundary once decoded, though the raw bytes read "nNightingale".
        (#"{"t":"a\nNightingale"}"#, #"{"t":"a\n[REDACTED:CODENAME]"}"#),
        // Escaped quotes around the term.
        (#"{"t":"say \"Nightingale\""}"#, #"{"t":"say \"[REDACTED:CODENAME]\""}"#),
        // An escaped space between the words of a multi-word term.
        (#"{"t":"Project\u0020Falcon"}"#, #"{"t":"[REDACTED:CODENAME]"}"#),
    ])
    func escapesCannotHideATerm(_ input: String, _ expected: String) throws {
        let out = try #require(forwarded(redactor, input))
        #expect(out == expected)
        #expect(isValidJSON(out))
    }

    @Test func escapedStringWithAHitIsReEncodedWithEveryEscapeKept() throws {
        let input = #"{"t":"tab\there \"q\" back\\slash ctl\u0001 nl\n Nightingale \u00e9\ud83d\ude00"}"#
        let out = try #require(forwarded(redactor, input))
        // Escapes of what did not change are kept as written (`JSONStringRewrite`).
        #expect(out == #"{"t":"tab\there \"q\" back\\slash ctl\u0001 nl\n [REDACTED:CODENAME] \u00e9\ud83d\ude00"}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String])
        #expect(object["t"] == "tab\there \"q\" back\\slash ctl\u{01} nl\n [REDACTED:CODENAME] é😀")
    }

    @Test func encodeStringEscapesEveryControlCharacterAndCopiesTheRest() {
        var input: [UInt8] = Array(0..<0x20)
        input += Array(#"a"b\c/é"#.utf8)
        let encoded = String(decoding: JSONRedactor.encodeString(input), as: UTF8.self)
        #expect(isValidJSON("\"" + encoded + "\""))
        let decoded = try? JSONSerialization.jsonObject(
            with: Data(("\"" + encoded + "\"").utf8),
            options: .fragmentsAllowed
        )
        #expect((decoded as? String).map { Array($0.utf8) } == input)
        #expect(encoded.hasPrefix(#"\u0000\u0001"#))
        #expect(encoded.contains(#"\t\n\u000b\u000c\r"#))
        #expect(encoded.hasSuffix(#"a\"b\\c/é"#))
        #expect(JSONRedactor.encodeString([]) == [])
        #expect(JSONRedactor.encodeString(Array("plain".utf8)) == Array("plain".utf8))
    }

    @Test(arguments: [
        (#"{"Nightingale":1}"#, #"{"[REDACTED:CODENAME]":1}"#),
        (#"{"a":{"notes on Night\u0069ngale":[1]}}"#, #"{"a":{"notes on [REDACTED:CODENAME]":[1]}}"#),
    ])
    func hitsInKeysAreRedacted(_ input: String, _ expected: String) throws {
        #expect(forwarded(redactor, input) == expected)
    }

    @Test func fieldRulesMatchEscapedKeys() throws {
        #expect(
            forwarded(redactor, #"{"metadata":{"internal\u005fnotes":"x","b":1}}"#) == #"{"metadata":{"b":1}}"#
        )
        #expect(
            forwarded(redactor, #"{"a":[{"run\u005fid":"r-1"}]}"#) == #"{"a":[{"run\u005fid":"[REDACTED:RUN_ID]"}]}"#
        )
    }

    @Test func keysOfTheSameLengthOrNameElsewhereAreNotSelected() throws {
        // `internal_notez` has the length of `internal_notes`; `$.other.internal_notes` has its name, not its path.
        let input = #"{"metadata":{"internal_notez":"Nightingale"},"other":{"internal_notes":"kept"},"run_ix":"y"}"#
        let out = try #require(forwarded(redactor, input))
        #expect(
            out
                == #"{"metadata":{"internal_notez":"[REDACTED:CODENAME]"},"other":{"internal_notes":"kept"},"run_ix":"y"}"#
        )
    }

    @Test func findingPathsNameEscapedAndNestedKeys() throws {
        let escaped = redactor.redact(
            body: Array(#"{"odd\u0020key":{"x\u0027s":["Nightingale"]}}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(escaped.findings.first?.paths == [#"$['odd key']['x\'s'][0]"#])
        // A document nested in a string under an escaped key: the nested walker inherits the decoded key.
        let nested = redactor.redact(
            body: Array(#"{"row\u005fdata":"{\"prompt\":\"Nightingale\"}"}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(nested.findings.first?.paths == ["$.row_data.prompt"])
        #expect(
            nested.forwardedBody.map { String(decoding: $0, as: UTF8.self) }
                == #"{"row\u005fdata":"{\"prompt\":\"[REDACTED:CODENAME]\"}"}"#
        )
    }

    @Test func bytesOutsideTheChangedStringAreCopiedVerbatim() throws {
        let before = "{\n  \"a\" : [1, -2.5E+3, true, null, \"\\u00e9\\/\\n\", \"é ✓\"],\t\"b\":\r\n\"x "
        let after = " y\", \"c\" : {\"k\\\"\" : \"Falcon\"}  }\n"
        let out = try #require(forwarded(redactor, before + "Nightingale" + after))
        #expect(out == before + "[REDACTED:CODENAME]" + after)
    }

    @Test(arguments: [
        (#""Nightingale""#, #""[REDACTED:CODENAME]""#), (#""N""#, #""N""#), (#""\u0041""#, #""\u0041""#),
        (#"["a","b","Nightingale",""]"#, #"["a","b","[REDACTED:CODENAME]",""]"#),
    ])
    func smallDocumentsMadeOfStringsOnly(_ input: String, _ expected: String) throws {
        #expect(forwarded(redactor, input) == expected)
    }

    @Test func shortStringsAreCopiedWithoutBleedingIntoEachOther() throws {
        // Short strings are copied as 16-byte blocks; the bytes after each (the next key, the next value) must not
        // join it in what is scanned.
        let split = #"{"a":"Night","b":"ingale","c":"Project","d":"Falcon","e":"x","f":"Nightingal","g":"e"}"#
        #expect(forwarded(redactor, split) == split)
        for length in 0...20 {
            let pad = String(repeating: "z", count: length)
            let input = #"{"p":"\#(pad)","t":"Nightingale","\#(pad)":"Nightingale\#(pad)","q":"\#(pad)"}"#
            let expected =
                #"{"p":"\#(pad)","t":"[REDACTED:CODENAME]","\#(pad)":"\#(length == 0 ? "[REDACTED:CODENAME]" : "Nightingale" + pad)","q":"\#(pad)"}"#
            #expect(forwarded(redactor, input) == expected, "padding \(length)")
        }
    }

    @Test func manyTinyStringsAndKeysFillTheScanText() throws {
        // Every byte but the brackets is string content or a quote: the scan text is as full as it can get.
        let members = (0..<2000).map { #""k\#($0)":"v""# }.joined(separator: ",")
        let input = "{" + members + #","last":"Nightingale"}"#
        let out = try #require(forwarded(redactor, input))
        #expect(out == "{" + members + #","last":"[REDACTED:CODENAME]"}"#)
    }
}

@Suite struct MediaTypeParsingTests {
    @Test(arguments: [
        ("application/json", "application/json", [String: String]()),
        ("Application/JSON", "application/json", [:]),
        (" application/json ", "application/json", [:]),
        ("application/json; charset=UTF-8", "application/json", ["charset": "UTF-8"]),
        ("multipart/form-data;boundary=\"a;b\"", "multipart/form-data", ["boundary": "a;b"]),
        ("", "", [:]),
    ])
    func plainAndParameterizedHeadersParseAlike(_ header: String, _ essence: String, _ parameters: [String: String]) {
        let media = MediaType(header)
        #expect(media.essence == essence)
        #expect(media.parameters == parameters)
    }
}
