import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Every byte of a multipart body is inspected or the body is refused: the preamble and epilogue, part headers with
/// their encoded parameter values, transfer-encoded parts; and what a reader could read two ways is refused.
@Suite struct MultipartInspectionTests {
    let redactor: Redactor
    static let type = "multipart/form-data; boundary=XyZ"

    init() throws {
        redactor = try makeRedactor(
            makePolicy(terms: [
                codenames,
                TermRule(id: "sites", label: "SITE", action: .redact, values: ["Kestrel Ridge"]),
                TermRule(id: "no-export", label: "NOEXPORT", action: .block, values: ["NO-EXPORT-7731"]),
            ])
        )
    }

    func outcome(_ body: String, type: String = Self.type) -> RedactionOutcome {
        redacted(redactor, body, type: type)
    }

    func forwardedBody(
        _ body: String,
        type: String = Self.type,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> String {
        let result = outcome(body, type: type)
        guard case .forward(let bytes, _) = result else {
            Issue.record("expected forward, got \(result)", sourceLocation: sourceLocation)
            return ""
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let field = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nplain\r\n"

    @Test func preambleAndEpilogueAreInspectedAsText() {
        let body = "Kestrel Ridge notes\r\n" + Self.field + "--XyZ--\r\nsee Nightingale\r\n"
        let out = forwardedBody(body)
        #expect(
            out == "[REDACTED:SITE] notes\r\n" + Self.field + "--XyZ--\r\nsee [REDACTED:CODENAME]\r\n",
            "\(out)"
        )
        // Block rules hold there too, and what is not text is refused.
        #expect(outcome("NO-EXPORT-7731\r\n" + Self.field + "--XyZ--").blockedRule == "no-export")
        #expect(outcome(Self.field + "--XyZ--\r\nNO-EXPORT-7731").blockedRule == "no-export")
        #expect(outcome(Self.field + "--XyZ--NO-EXPORT-7731").blockedRule == "no-export")
        #expect(
            redactor.redact(
                body: [0xFF, 0x0D, 0x0A] + Array((Self.field + "--XyZ--").utf8),
                contentType: Self.type,
                contentEncoding: nil,
                vendor: "v"
            ).isUninspectable
        )
        #expect(
            redactor.redact(
                body: Array((Self.field + "--XyZ--\r\n").utf8) + [0xC3],
                contentType: Self.type,
                contentEncoding: nil,
                vendor: "v"
            ).isUninspectable
        )
    }

    static func encodedPart(_ encoding: String, type: String = "text/plain", _ content: String) -> String {
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\nContent-Type: \(type)\r\n"
            + "Content-Transfer-Encoding: \(encoding)\r\n\r\n\(content)\r\n--XyZ--\r\n"
    }

    /// The encoded content of the single part of a forwarded `encodedPart` body.
    static func content(_ body: String) -> String {
        guard let start = body.range(of: "\r\n\r\n")?.upperBound,
            let end = body.range(of: "\r\n--XyZ--", range: start..<body.endIndex)?.lowerBound
        else { return "" }
        return String(body[start..<end])
    }

    @Test func base64PartsAreDecodedRedactedAndEncodedAgain() throws {
        let secret = Data("notes on Nightingale at Kestrel Ridge\r\n".utf8).base64EncodedString()
        let out = forwardedBody(Self.encodedPart("base64", secret))
        let decoded = try #require(Data(base64Encoded: Self.content(out).replacingOccurrences(of: "\r\n", with: "")))
        #expect(String(decoding: decoded, as: UTF8.self) == "notes on [REDACTED:CODENAME] at [REDACTED:SITE]\r\n")
        #expect(out.contains("Content-Transfer-Encoding: base64\r\n"))
        // A JSON part is redacted as JSON (an escaped codename is found), long content is wrapped at 76.
        let json =
            #"{"rows":["N\u0069ghtingale","#
            + String(repeating: #""padding text","#, count: 20) + #""end"]}"#
        let jsonOut = forwardedBody(
            Self.encodedPart("BASE64", type: "application/json", Data(json.utf8).base64EncodedString())
        )
        let lines = Self.content(jsonOut).components(separatedBy: "\r\n")
        #expect(lines.count > 1 && lines.allSatisfy { $0.count <= 76 })
        let jsonDecoded = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: jsonDecoded, as: UTF8.self).hasPrefix(#"{"rows":["[REDACTED:CODENAME]","#))
        // Clean content leaves as it was sent, line breaks and all.
        let clean = Self.encodedPart("base64", "aGVs\r\nbG8=")
        #expect(forwardedBody(clean) == clean)
        let blocked = Data("NO-EXPORT-7731".utf8).base64EncodedString()
        #expect(outcome(Self.encodedPart("base64", blocked)).blockedRule == "no-export")
        for bad in ["aGVsbG8", "aGVs bG8=", "aGVsbG8=x", "#aGVsbG8="] {
            #expect(outcome(Self.encodedPart("base64", bad)).isUninspectable, "\(bad)")
        }
        // Binary content follows content.unknown, as an unencoded binary part does.
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0xFF]).base64EncodedString()
        #expect(outcome(Self.encodedPart("base64", type: "image/png", png)).blockedRule == "content.unknown")
    }

    @Test func quotedPrintablePartsAreDecodedRedactedAndEncodedAgain() throws {
        // A soft line break inside the codename, an escaped letter inside the site.
        let out = forwardedBody(
            Self.encodedPart("quoted-printable", "about Night=\r\ningale and =4Bestrel=20Ridge=\r\n")
        )
        let content = Self.content(out)
        #expect(!content.contains("ingale") && !content.contains("estrel"), "\(content)")
        #expect(content == "about [REDACTED:CODENAME] and [REDACTED:SITE]", "\(content)")
        #expect(outcome(Self.encodedPart("quoted-printable", "NO-EXPORT=\r\n-7731")).blockedRule == "no-export")
        #expect(outcome(Self.encodedPart("quoted-printable", "a =ZZ b")).isUninspectable)
        let clean = Self.encodedPart("quoted-printable", "caf=C3=A9 =\r\nau lait")
        #expect(forwardedBody(clean) == clean)
    }

    @Test func onlyKnownTransferEncodingsAreAccepted() {
        for identity in ["7bit", "8bit", "binary", "8BIT"] {
            #expect(
                forwardedBody(Self.encodedPart(identity, "Nightingale")).contains("\r\n\r\n[REDACTED:CODENAME]\r\n"),
                "\(identity)"
            )
        }
        for unknown in ["x-uuencode", "base-64", "gzip", ""] {
            #expect(outcome(Self.encodedPart(unknown, "Nightingale")).isUninspectable, "\(unknown)")
        }
    }

    static func disposition(_ parameters: String, content: String = "x") -> String {
        "--XyZ\r\nContent-Disposition: form-data; \(parameters)\r\nContent-Type: text/plain\r\n\r\n\(content)\r\n--XyZ--\r\n"
    }

    @Test func extendedAndEscapedParameterValuesAreDecodedBeforeInspection() throws {
        let out = forwardedBody(Self.disposition(#"name="file"; filename*=UTF-8''Kestrel%20Ridge%20plan.txt"#))
        #expect(out.contains(#"filename*=UTF-8''%5BREDACTED%3ASITE%5D%20plan.txt"#), "\(out)")
        // The language tag is kept, the value stays a valid ext-value.
        let tagged = forwardedBody(Self.disposition(#"name="file"; filename*=utf-8'en'Night%69ngale"#))
        #expect(tagged.contains(#"filename*=UTF-8'en'%5BREDACTED%3ACODENAME%5D"#), "\(tagged)")
        let named = forwardedBody(Self.disposition(#"name*=UTF-8''Kestrel%20Ridge"#))
        #expect(named.contains(#"name*=UTF-8''%5BREDACTED%3ASITE%5D"#), "\(named)")
        // A quoted-pair (`\i`) that a reader unescapes.
        let escaped = forwardedBody(Self.disposition(#"name="f"; filename="Night\ingale \"v2\".txt""#))
        #expect(escaped.contains(#"filename="[REDACTED:CODENAME] \"v2\".txt""#), "\(escaped)")
        #expect(outcome(Self.disposition(#"name="f"; filename*=UTF-8''NO-EXPORT%2D7731"#)).blockedRule == "no-export")
        // filename and filename* together (RFC 6266): both are inspected.
        let both = forwardedBody(
            Self.disposition(#"name="f"; filename="Nightingale.txt"; filename*=UTF-8''Kestrel%20Ridge.txt"#)
        )
        #expect(!both.contains("Nightingale") && !both.contains("Kestrel"), "\(both)")
        for refused in [
            #"name="f"; filename*=ISO-8859-1''Kestrel%20Ridge"#,  // a charset Airlock does not read
            #"name="f"; filename*=UTF-8''Kestrel%2"#,  // a broken escape
            #"name="f"; filename*=UTF-8''%FF"#,  // not UTF-8
            #"name="f"; filename*0="Night"; filename*1="ingale""#,  // RFC 2231 continuations
            #"name="f"; filename*0*=UTF-8''Night; filename*1*=ingale"#,
            #"name="f"; filename="=?UTF-8?B?TmlnaHRpbmdhbGU=?=""#,  // an RFC 2047 encoded word
            #"name="a"; name*=UTF-8''b"#,  // name and name* disagree
        ] {
            #expect(outcome(Self.disposition(refused)).isUninspectable, "\(refused)")
        }
    }

    @Test func ambiguityIsRefused() {
        let part = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--\r\n"
        #expect(forwardedBody(part) == part)
        for type in [
            "multipart/form-data; boundary=XyZ; boundary=Other",
            "multipart/form-data; boundary=Other; boundary=XyZ",
            "multipart/form-data; boundary=XyZ; BOUNDARY=XyZ",
        ] {
            #expect(outcome(part, type: type).isUninspectable, "\(type)")
        }
        for headers in [
            "Content-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"b\"",
            "Content-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain\r\ncontent-type: image/png",
            "Content-Disposition: form-data; name=\"a\"; name=\"b\"",
            "Content-Disposition: form-data; name=\"a\"; NAME=\"a\"",
            "Content-Disposition: form-data; name=\"a\"; filename=\"x\"; filename=\"y\"",
            "Content-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=utf-8; charset=latin1",
            "Content-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: 8bit\r\nContent-Transfer-Encoding: base64",
            "Content-Disposition: form-data;\r\n name=\"a\"",  // a folded line
            "Content-Disposition : form-data; name=\"a\"",  // whitespace before the colon
            "Content-Disposition: form-data; name=\"a\nb\"",  // a bare LF
            "Content-Disposition: form-data; name=\"a",  // an unterminated quote
            "Content-Disposition: form-data; name",  // a parameter without a value
        ] {
            let body = "--XyZ\r\n\(headers)\r\n\r\nx\r\n--XyZ--\r\n"
            #expect(outcome(body).isUninspectable, "\(headers)")
        }
    }

    /// A Windows path in a quoted file name: readers that keep the backslash read `\Nightingale`, readers that drop
    /// it read `fakepathNightingale`. Both readings are inspected.
    @Test func aQuotedValueWithBackslashesIsInspectedAsEitherReaderReadsIt() {
        let path = forwardedBody(Self.disposition(#"name="f"; filename="C:\fakepath\Nightingale.txt""#))
        #expect(path.contains(#"filename="C:\fakepath\[REDACTED:CODENAME].txt""#), "\(path)")
        #expect(outcome(Self.disposition(#"name="f"; filename="C:\NO-EXPORT-7731""#)).blockedRule == "no-export")
    }

    /// RFC 2046: the boundary never occurs inside a part, the preamble or the epilogue. A lenient reader splitting on
    /// it there (after a bare LF, mid-line, past the closing boundary) would find a JSON part whose escapes the engine
    /// never decoded, read as text.
    @Test func theBoundaryAnywhereButOnItsOwnLinesIsRefused() {
        let hidden =
            "--XyZ\nContent-Disposition: form-data; name=\"operations\"\nContent-Type: application/json\n\n"
            + #"{"q":"N\u0069ghtingale"}"#
        for body in [
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntext\n\(hidden)\r\n--XyZ--\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntext --XyZ\r\n--XyZ--\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a--XyZ\"\r\n\r\ntext\r\n--XyZ--\r\n",
            "preamble \(hidden)\r\n" + Self.field + "--XyZ--\r\n",
            Self.field + "--XyZ--\r\n\(hidden)\r\n--XyZ--\r\n",
        ] {
            #expect(outcome(body).isUninspectable, "\(body)")
        }
    }

    /// RFC 7578 4.6: `_charset_` sets the charset of the other text fields; only UTF-8 (which is inspected) passes.
    @Test func aCharsetFieldNamingAnythingButUTF8IsRefused() {
        func body(_ charset: String) -> String {
            "--XyZ\r\nContent-Disposition: form-data; name=\"_charset_\"\r\n\r\n\(charset)\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n+AE4-ightingale\r\n--XyZ--\r\n"
        }
        #expect(outcome(body("utf-7")).isUninspectable)
        #expect(outcome(body("iso-8859-1")).isUninspectable)
        #expect(forwardedBody(body("UTF-8")) == body("UTF-8"))
    }

    /// Redacting a header must leave headers that read the same: a codename in a header's name would turn it into
    /// a malformed line (`X-[REDACTED:CODENAME]: 1`), so the body is refused; in values it is rewritten.
    @Test func redactedHeadersMustStillReadTheSame() {
        let named = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Nightingale: 1\r\n\r\nx\r\n--XyZ--\r\n"
        #expect(outcome(named).isUninspectable)
        let valued =
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Note: Nightingale\r\n\r\nx\r\n--XyZ--\r\n"
        let out = forwardedBody(valued)
        #expect(out.contains("X-Note: [REDACTED:CODENAME]\r\n"), "\(out)")
        // What leaves is itself a body the engine accepts as it is.
        #expect(forwardedBody(out) == out)
    }

    /// A refusal reason reaches the error body and the audit log: it quotes nothing from the request.
    @Test func refusalsQuoteNoParameterNameOrValue() {
        for (type, headers) in [
            (Self.type + "; nightingale=1; nightingale=2", "Content-Disposition: form-data; name=\"a\""),
            (Self.type, "Content-Disposition: form-data; name=\"a\"; nightingale=1; nightingale=2"),
            (Self.type, "Content-Disposition: form-data; name=\"a\"; nightingale*0=x"),
            (Self.type, "Content-Disposition: form-data; name=\"a\"; filename*=nightingale''x"),
            (Self.type, "Content-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: nightingale"),
        ] {
            let result = outcome("--XyZ\r\n\(headers)\r\n\r\nx\r\n--XyZ--\r\n", type: type)
            guard case .uninspectable(let reason, _) = result else {
                Issue.record("expected a refusal, got \(result)")
                continue
            }
            #expect(!reason.lowercased().contains("nightingale"), "\(reason)")
        }
    }

    /// The boundary leaves on every delimiter line: one holding what the policy hides is refused (or blocked).
    @Test func aBoundaryThePolicyMatchesIsRefused() {
        let part = "--Nightingale-1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--Nightingale-1--\r\n"
        #expect(outcome(part, type: "multipart/form-data; boundary=Nightingale-1").isUninspectable)
        let blocked = part.replacingOccurrences(of: "Nightingale-1", with: "NO-EXPORT-7731")
        #expect(outcome(blocked, type: "multipart/form-data; boundary=NO-EXPORT-7731").blockedRule == "no-export")
        let fine = part.replacingOccurrences(of: "Nightingale-1", with: "x7MA4YWxk")
        #expect(forwardedBody(fine, type: "multipart/form-data; boundary=x7MA4YWxk") == fine)
    }

    /// The callback check reads parts through the same walk, so it refuses what the engine refuses.
    @Test func thePartListRefusesWhatTheEngineRefuses() throws {
        let part = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--\r\n"
        let bytes = Array(part.utf8)
        #expect(throws: MultipartPart.Failure.self) {
            try bytes.withUnsafeBytes {
                try Redactor.multipartParts($0, contentType: "multipart/form-data; boundary=XyZ; boundary=Q")
            }
        }
        let named = Array(Self.disposition(#"name*=UTF-8''callback%5Furl"#).utf8)
        let parts = try named.withUnsafeBytes { try Redactor.multipartParts($0, contentType: Self.type) }
        #expect(parts?.first?.name == "callback_url")
    }
}
