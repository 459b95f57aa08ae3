import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

@Suite struct JSONFormatTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(
            makePolicy(
                terms: [codenames],
                fields: [
                    FieldRule(path: try JSONPath(parsing: "$.metadata.internal_notes"), action: .drop),
                    FieldRule(path: try JSONPath(parsing: "$..run_id"), action: .hash),
                    FieldRule(path: try JSONPath(parsing: "$.tasks[*].reviewer"), action: .redact),
                    FieldRule(id: "secret-field", path: try JSONPath(parsing: "$.vault"), action: .block),
                ]
            )
        )
    }

    @Test func redactsJSONNestedInAStringAndReEncodesIt() throws {
        let inner = #"{"prompt":"Nightingale","meta":{"run_id":7}}"#
        let body = try JSONEncoderHelper.json(["row_data": inner])
        let out = try #require(forwarded(redactor, String(decoding: body, as: UTF8.self)))
        #expect(isValidJSON(out))
        let outer = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String])
        let nested = try #require(outer["row_data"])
        #expect(isValidJSON(nested))
        #expect(nested.contains(#""prompt":"[REDACTED:CODENAME]""#))
        #expect(nested.contains(#""run_id":"RUN_ID_"#), "fields apply inside nested JSON: \(nested)")
        #expect(!out.contains("Nightingale"))
    }

    @Test func stringThatLooksLikeJSONButIsNotIsRedactedAsText() throws {
        let out = try #require(forwarded(redactor, #"{"t":"{ Nightingale is not json"}"#))
        #expect(out == #"{"t":"{ [REDACTED:CODENAME] is not json"}"#)
    }

    @Test(arguments: [
        (#"{"metadata":{"internal_notes":"x","b":1}}"#, #"{"metadata":{"b":1}}"#),
        (#"{"metadata":{"a":1, "internal_notes":"x"}}"#, #"{"metadata":{"a":1}}"#),
        (#"{"metadata":{"a":1, "internal_notes":{"deep":[1,2]}, "b":2}}"#, #"{"metadata":{"a":1, "b":2}}"#),
        (#"{"metadata":{"internal_notes":"x"}}"#, #"{"metadata":{}}"#),
    ])
    func dropRemovesTheMemberAndKeepsJSONValid(_ input: String, _ expected: String) throws {
        let out = try #require(forwarded(redactor, input))
        #expect(out == expected)
        #expect(isValidJSON(out))
    }

    @Test func hashFieldAtAnyDepthIncludingNumbers() throws {
        let out = try #require(forwarded(redactor, #"{"a":{"run_id":12345},"b":[{"run_id":"12345"}]}"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let first = try #require((object["a"] as? [String: Any])?["run_id"] as? String)
        let second = try #require(((object["b"] as? [Any])?.first as? [String: Any])?["run_id"] as? String)
        #expect(first.hasPrefix("RUN_ID_") && first.count == "RUN_ID_".count + 12)
        #expect(first == second, "the same value hashes the same whether number or string")
    }

    @Test func wildcardPathAppliesToEveryElement() throws {
        let out = try #require(forwarded(redactor, #"{"tasks":[{"reviewer":"a@b.c","x":1},{"reviewer":{"n":1}}]}"#))
        #expect(out == #"{"tasks":[{"reviewer":"[REDACTED:REVIEWER]","x":1},{"reviewer":"[REDACTED:REVIEWER]"}]}"#)
    }

    @Test(arguments: [
        ("[1, 2, 3]", "[2, 3]"), ("[1]", "[]"), ("[1, 2]", "[2]"),
    ])
    func dropOnAnArrayElementRemovesIt(_ input: String, _ expected: String) throws {
        let dropper = try makeRedactor(
            makePolicy(fields: [FieldRule(path: try JSONPath(parsing: "$.a[0]"), action: .drop)])
        )
        let out = try #require(forwarded(dropper, #"{"a":\#(input)}"#))
        #expect(out == #"{"a":\#(expected)}"#)
        #expect(isValidJSON(out))
        let all = try makeRedactor(
            makePolicy(fields: [FieldRule(path: try JSONPath(parsing: "$.a[*]"), action: .drop)])
        )
        #expect(forwarded(all, #"{"a":\#(input),"b":1}"#) == #"{"a":[],"b":1}"#)
    }

    @Test func blockFieldRefusesTheRequest() {
        let outcome = redactor.redact(
            body: Array(#"{"vault":"x"}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.blockedRule == "secret-field", "\(outcome)")
    }

    @Test func findingsCarryPathsAndNeverTheValue() throws {
        let outcome = redactor.redact(
            body: Array(#"{"messages":[{"content":"hi"},{"content":"Nightingale and Nightingale"}]}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        let finding = try #require(outcome.findings.first)
        #expect(finding.rule == "codenames")
        #expect(finding.action == "redact")
        #expect(finding.count == 2)
        #expect(finding.paths == ["$.messages[1].content"])
        #expect(finding.fingerprints.count == 1)
        let encoded = String(decoding: try JSONEncoder().encode(outcome.findings), as: UTF8.self)
        #expect(!encoded.contains("Nightingale"))
    }

    @Test func unchangedBodyIsReturnedByteForByte() {
        let input = "{\n  \"a\" : [1, 2.5e-3, true, false, null, \"\\u00e9\\n\"]\t}"
        #expect(forwarded(redactor, input) == input)
    }

    @Test(arguments: [
        "{\"a\":1", "{\"a\":1,}", "[1 2]", "{\"a\":01}", "{\"a\":\"x\u{01}\"}", "{\"a\":\"\\x\"}", "{a:1}", "\"abc",
        "{\"a\":1} x", "  ", "{\"a\":\"\\ud800\"}", "[tru]", "{\"a\":-}", "{\"a\":1.}",
    ])
    func malformedJSONIsUninspectableAndProducesNothing(_ input: String) {
        let outcome = redactor.redact(
            body: Array(input.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable for \(input.debugDescription), got \(outcome)")
        #expect(outcome.forwardedBody == nil)
    }

    @Test func invalidUTF8InJSONIsUninspectable() {
        let outcome = redactor.redact(
            body: Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.forwardedBody == nil)
        if case .uninspectable = outcome {} else { Issue.record("expected uninspectable, got \(outcome)") }
    }

    @Test func deeplyNestedJSONIsUninspectable() {
        let input = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let outcome = redactor.redact(
            body: Array(input.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }

    /// JSON in a string in JSON...: the levels of the enclosing documents count against the one depth limit (the
    /// stack it protects is tested with the real binary in ExamplePoliciesTests). A document past the limit is
    /// scanned as text, so its terms are still found; one within it is still JSON, so fields rules apply inside.
    @Test func documentsInStringsShareOneDepthLimit() throws {
        var inner = #""Nightingale""#
        for _ in 0..<4 {
            let document = String(repeating: "[", count: 500) + inner + String(repeating: "]", count: 500)
            inner = try #require(String(data: try JSONEncoder().encode(document), encoding: .utf8))
        }
        let out = try #require(forwarded(redactor, #"{"row_data": "# + inner + "}"))
        #expect(isValidJSON(out))
        #expect(!out.contains("Nightingale") && out.contains("[REDACTED:CODENAME]"))

        // Shallow enough in total: the inner document is still redacted as JSON (a fields rule applies inside it).
        let shallow = #"{"row_data": "[[{\"meta\": {\"run_id\": 7}}]]"}"#
        let redacted = try #require(forwarded(redactor, shallow))
        #expect(!redacted.contains(#"\"run_id\": 7"#) && redacted.contains("run_id"), "\(redacted)")
    }

    @Test func ndjsonRedactsEveryLine() throws {
        let out = try #require(
            forwarded(redactor, "{\"a\":\"Nightingale\"}\n\n{\"b\":\"x\"}\n", type: "application/x-ndjson")
        )
        #expect(out == "{\"a\":\"[REDACTED:CODENAME]\"}\n\n{\"b\":\"x\"}\n")
    }
}

@Suite struct OtherFormatTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(makePolicy(terms: [codenames]))
    }

    @Test func plainTextMarkdownAndCSV() {
        #expect(
            forwarded(redactor, "About Nightingale.", type: "text/plain; charset=utf-8") == "About [REDACTED:CODENAME]."
        )
        #expect(forwarded(redactor, "# Nightingale\n", type: "text/markdown") == "# [REDACTED:CODENAME]\n")
        #expect(forwarded(redactor, "id,name\n1,Nightingale\n", type: "text/csv") == "id,name\n1,[REDACTED:CODENAME]\n")
    }

    @Test func invalidUTF8TextIsUninspectable() {
        let outcome = redactor.redact(
            body: [0x61, 0xFF, 0x62],
            contentType: "text/plain",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }

    @Test func nonUTF8CharsetIsUninspectable() {
        let outcome = redactor.redact(
            body: Array("abc".utf8),
            contentType: "text/plain; charset=iso-8859-1",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }

    @Test func formURLEncodedIsDecodedRedactedAndReEncoded() {
        let out = forwarded(
            redactor,
            "a=1&note=about+Night%69ngale%21&&flag",
            type: "application/x-www-form-urlencoded"
        )
        #expect(out == "a=1&note=about+%5BREDACTED%3ACODENAME%5D%21&&flag")
        let clean = "a=1&b=hello+world%21"
        #expect(forwarded(redactor, clean, type: "application/x-www-form-urlencoded") == clean)
    }

    @Test func malformedPercentEscapeIsUninspectable() {
        let outcome = redactor.redact(
            body: Array("a=%G1".utf8),
            contentType: "application/x-www-form-urlencoded",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }

    static func multipart(_ parts: [(headers: String, body: String)], boundary: String = "XyZ") -> [UInt8] {
        var text = ""
        for part in parts { text += "--\(boundary)\r\n\(part.headers)\r\n\r\n\(part.body)\r\n" }
        text += "--\(boundary)--\r\n"
        return Array(text.utf8)
    }

    @Test func multipartGraphQLUploadRedactsOperationsMapAndTextFiles() throws {
        let body = Self.multipart([
            (
                "Content-Disposition: form-data; name=\"operations\"",
                #"{"query":"mutation","variables":{"note":"Nightingale","file":null}}"#
            ),
            ("Content-Disposition: form-data; name=\"map\"", #"{"0":["variables.file"]}"#),
            (
                "Content-Disposition: form-data; name=\"0\"; filename=\"nightingale-notes.txt\"\r\nContent-Type: text/plain",
                "Project Falcon notes"
            ),
        ])
        let outcome = redactor.redact(
            body: body,
            contentType: "multipart/form-data; boundary=XyZ",
            contentEncoding: nil,
            vendor: "v"
        )
        let out = try #require(outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) })
        #expect(out.contains(#"{"query":"mutation","variables":{"note":"[REDACTED:CODENAME]","file":null}}"#))
        #expect(out.contains("filename=\"[REDACTED:CODENAME]-notes.txt\""))
        #expect(out.contains("\r\n\r\n[REDACTED:CODENAME] notes\r\n--XyZ--"))
        #expect(!out.lowercased().contains("nightingale") && !out.contains("Falcon"))
        #expect(outcome.findings.first?.paths.contains("$.operations.variables.note") == true)
    }

    /// A file part with no type, or a "type" that is not a media type (labelbox 7.17 sends its JSON chunk as
    /// `Content-Type: json_import.json`), is judged by content: JSON is redacted as JSON, so an escaped codename
    /// inside it is still found; other UTF-8 as text; anything else follows `content.unknown`.
    @Test func multipartPartsWithoutAUsableTypeAreSniffed() throws {
        let escaped = #"[{"row_data": "N\u0069ghtingale notes", "global_key": "k1"}]"#
        for headers in [
            "Content-Disposition: form-data; name=\"1\"; filename=\"application/json\"\r\nContent-Type: json_import.json",
            "Content-Disposition: form-data; name=\"1\"; filename=\"rows.json\"",
        ] {
            let outcome = redactor.redact(
                body: Self.multipart([(headers, escaped)]),
                contentType: "multipart/form-data; boundary=XyZ",
                contentEncoding: nil,
                vendor: "v"
            )
            let out = try #require(outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) }, "\(outcome)")
            #expect(out.contains(#"[{"row_data": "[REDACTED:CODENAME] notes", "global_key": "k1"}]"#), "\(out)")
        }
        let binary = redactor.redact(
            body: Self.multipart([
                ("Content-Disposition: form-data; name=\"1\"; filename=\"x\"\r\nContent-Type: not a type", "\u{FF}")
            ]).map { $0 == 0xC3 ? 0xFF : $0 },
            contentType: "multipart/form-data; boundary=XyZ",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(binary.blockedRule == "content.unknown", "\(binary)")
    }

    @Test func multipartBinaryPartFollowsContentUnknown() throws {
        let body = Self.multipart([
            ("Content-Disposition: form-data; name=\"img\"; filename=\"a.png\"\r\nContent-Type: image/png", "\u{89}PNG")
        ])
        let blocked = redactor.redact(
            body: body,
            contentType: "multipart/form-data; boundary=XyZ",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(blocked.blockedRule == "content.unknown", "\(blocked)")
        let passing = try makeRedactor(makePolicy(terms: [codenames], unknown: .pass))
        let passed = passing.redact(
            body: body,
            contentType: "multipart/form-data; boundary=XyZ",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(passed.forwardedBody == body)
    }

    @Test(arguments: [
        ("multipart/form-data", "--XyZ\r\n\r\nx\r\n--XyZ--"),
        ("multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nNightingale"),
        ("multipart/form-data; boundary=XyZ", "no boundary at all"),
        ("multipart/form-data; boundary=XyZ", "--XyZ\r\nbroken header line\r\n\r\nx\r\n--XyZ--"),
    ])
    func brokenMultipartIsUninspectable(_ type: String, _ body: String) {
        let outcome = redactor.redact(body: Array(body.utf8), contentType: type, contentEncoding: nil, vendor: "v")
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }

    @Test func unknownContentTypeFollowsContentUnknown() throws {
        let blocked = redactor.redact(
            body: [1, 2, 3],
            contentType: "application/octet-stream",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(blocked.blockedRule == "content.unknown", "\(blocked)")
        let missing = redactor.redact(body: [1, 2, 3], contentType: nil, contentEncoding: nil, vendor: "v")
        #expect(missing.blockedRule == "content.unknown", "\(missing)")
        let passing = try makeRedactor(makePolicy(terms: [codenames], unknown: .pass))
        #expect(
            passing.redact(body: [1, 2, 3], contentType: "image/png", contentEncoding: nil, vendor: "v").forwardedBody
                == [1, 2, 3]
        )
    }

    @Test func emptyBodyIsForwarded() {
        #expect(
            redactor.redact(body: [], contentType: "application/json", contentEncoding: nil, vendor: "v").forwardedBody
                == []
        )
    }
}

@Suite struct CompressionTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(makePolicy(terms: [codenames]))
    }

    @Test(arguments: ["gzip", "deflate"])
    func decompressesRedactsAndRecompresses(_ coding: String) throws {
        let codingValue = try #require(ContentCoding(header: coding))
        let compressed = Compression.compress(Array(#"{"t":"Nightingale"}"#.utf8), coding: codingValue)
        let outcome = redactor.redact(
            body: compressed,
            contentType: "application/json",
            contentEncoding: coding,
            vendor: "v"
        )
        let body = try #require(outcome.forwardedBody)
        let plain = try body.withUnsafeBufferPointer {
            try Compression.decompress($0, coding: codingValue, limits: DecompressionLimits())
        }
        #expect(String(decoding: plain, as: UTF8.self) == #"{"t":"[REDACTED:CODENAME]"}"#)
    }

    @Test func unchangedCompressedBodyIsForwardedAsSent() throws {
        let compressed = Compression.compress(Array(#"{"t":"fine"}"#.utf8), coding: .gzip)
        #expect(
            redactor.redact(body: compressed, contentType: "application/json", contentEncoding: "gzip", vendor: "v")
                .forwardedBody == compressed
        )
    }

    @Test func corruptTruncatedOrTrailingGzipIsUninspectable() {
        let good = Compression.compress(Array(#"{"t":"x"}"#.utf8), coding: .gzip)
        for bad in [Array("not gzip".utf8), Array(good.dropLast(4)), good + [0x00]] {
            let outcome = redactor.redact(
                body: bad,
                contentType: "application/json",
                contentEncoding: "gzip",
                vendor: "v"
            )
            #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
        }
    }

    @Test func decompressionBombIsRefusedBySizeAndByRatio() throws {
        let bomb = Compression.compress(Array(repeating: UInt8(ascii: " "), count: 8 << 20), coding: .gzip)
        let bySize = try Redactor(
            policy: makePolicy(terms: [codenames]),
            keys: testKeys,
            limits: DecompressionLimits(maxBytes: 1 << 20, maxRatio: 100_000)
        )
        guard
            case .uninspectable(let sizeReason, _) = bySize.redact(
                body: bomb,
                contentType: "text/plain",
                contentEncoding: "gzip",
                vendor: "v"
            )
        else {
            Issue.record("size limit did not trip")
            return
        }
        #expect(sizeReason.contains("exceeds"))
        let byRatio = try Redactor(
            policy: makePolicy(terms: [codenames]),
            keys: testKeys,
            limits: DecompressionLimits(maxBytes: 1 << 30, maxRatio: 100, ratioFloor: 1 << 16)
        )
        guard
            case .uninspectable(let ratioReason, _) = byRatio.redact(
                body: bomb,
                contentType: "text/plain",
                contentEncoding: "gzip",
                vendor: "v"
            )
        else {
            Issue.record("ratio limit did not trip")
            return
        }
        #expect(ratioReason.contains("ratio"))
    }

    @Test func unsupportedContentEncodingIsUninspectable() {
        let outcome = redactor.redact(
            body: [1, 2],
            contentType: "application/json",
            contentEncoding: "br",
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }
}
