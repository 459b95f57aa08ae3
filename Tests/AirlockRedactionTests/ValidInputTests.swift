import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Valid input that used to be refused: a UTF-8 byte order mark before JSON and NDJSON, multi-member gzip. Both are
/// accepted and inspected whole; the decompressed size is capped by the limit the engine is given.
@Suite struct ValidInputTests {
    let redactor: Redactor
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    init() throws {
        redactor = try makeRedactor(
            makePolicy(terms: [
                codenames, TermRule(id: "no-export", label: "NOEXPORT", action: .block, values: ["NO-EXPORT-7731"]),
            ])
        )
    }

    func outcome(_ body: [UInt8], type: String, encoding: String? = nil) -> RedactionOutcome {
        redactor.redact(body: body, contentType: type, contentEncoding: encoding, vendor: "v")
    }

    @Test func aByteOrderMarkBeforeJSONIsKeptAndTheDocumentInspected() throws {
        let body = Self.bom + Array(#"{"t":"N\u0069ghtingale","n":1}"#.utf8)
        guard case .forward(let out, _) = outcome(body, type: "application/json") else {
            Issue.record("expected forward, got \(outcome(body, type: "application/json"))")
            return
        }
        #expect(out == Self.bom + Array(#"{"t":"[REDACTED:CODENAME]","n":1}"#.utf8))
        let clean = Self.bom + Array(#" {"t":"fine"}"#.utf8)
        #expect(outcome(clean, type: "application/json").forwardedBody == clean)
        #expect(
            outcome(Self.bom + Array(#"["NO-EXPORT-7731"]"#.utf8), type: "application/json").blockedRule == "no-export"
        )
        // Only one mark, only in front: anything else is not JSON.
        for bad in [
            Self.bom + Self.bom + Array("{}".utf8), Array("{}".utf8) + Self.bom,
            Array(" ".utf8) + Self.bom + Array("{}".utf8), Self.bom,
        ] {
            #expect(outcome(bad, type: "application/json").isUninspectable, "\(bad)")
        }
    }

    @Test func aByteOrderMarkBeforeNDJSONAndJSONPartsIsKept() throws {
        let lines = Self.bom + Array("{\"t\":\"Nightingale\"}\n{\"t\":\"ok\"}\n".utf8)
        #expect(
            outcome(lines, type: "application/x-ndjson").forwardedBody
                == Self.bom + Array("{\"t\":\"[REDACTED:CODENAME]\"}\n{\"t\":\"ok\"}\n".utf8)
        )
        // A JSON file saved by a Windows editor, uploaded as a multipart part (typed, and sniffed without a type).
        for headers in ["Content-Type: application/json", "Content-Type: json_import.json"] {
            let body =
                Array(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"rows.json\"\r\n\(headers)\r\n\r\n"
                        .utf8
                )
                + Self.bom + Array(#"[{"row_data":"N\u0069ghtingale"}]"#.utf8) + Array("\r\n--XyZ--\r\n".utf8)
            let out = try #require(outcome(body, type: "multipart/form-data; boundary=XyZ").forwardedBody, "\(headers)")
            #expect(
                String(decoding: out, as: UTF8.self).contains("\u{FEFF}" + #"[{"row_data":"[REDACTED:CODENAME]"}]"#),
                "\(headers)"
            )
        }
    }

    static func gzip(_ text: String) -> [UInt8] { Compression.compress(Array(text.utf8), coding: .gzip) }

    static func gunzip(_ body: [UInt8]) throws -> String {
        let plain = try body.withUnsafeBufferPointer {
            try Compression.decompress($0, coding: .gzip, limits: DecompressionLimits())
        }
        return String(decoding: plain, as: UTF8.self)
    }

    @Test func everyMemberOfAMultiMemberGzipBodyIsInspected() throws {
        // `cat a.gz b.gz`: the codename is only in the second member.
        let body = Self.gzip("{\"t\":\"first\"}\n") + Self.gzip("{\"t\":\"Nightingale\"}\n")
        let out = try #require(outcome(body, type: "application/x-ndjson", encoding: "gzip").forwardedBody)
        #expect(try Self.gunzip(out) == "{\"t\":\"first\"}\n{\"t\":\"[REDACTED:CODENAME]\"}\n")
        let blocked = Self.gzip("ok ") + Self.gzip("NO-EXPORT") + Self.gzip("-7731")
        #expect(outcome(blocked, type: "text/plain", encoding: "gzip").blockedRule == "no-export")
        // A clean multi-member body leaves as sent.
        let clean = Self.gzip("a ") + Self.gzip("b")
        #expect(outcome(clean, type: "text/plain", encoding: "gzip").forwardedBody == clean)
        // What follows a member must be a member: padding, garbage or a truncated member are refused.
        for bad in [
            clean + [0, 0, 0, 0], clean + Array("trailing".utf8), clean + Array(Self.gzip("c").dropLast(3)),
        ] {
            #expect(outcome(bad, type: "text/plain", encoding: "gzip").isUninspectable)
        }
        // A zlib (deflate) stream has no members.
        let zlib = Compression.compress(Array("a".utf8), coding: .deflate)
        #expect(outcome(zlib + zlib, type: "text/plain", encoding: "deflate").isUninspectable)
    }

    /// `gzip Nightingale-plan.json` stores the file name in the member header (RFC 1952 FNAME), next to a comment
    /// (FCOMMENT) and extra fields (FEXTRA): bytes that are not content, so never inspected. They never leave: such a
    /// body is re-compressed without them, even when its content is unchanged.
    @Test func gzipHeaderFileNamesCommentsAndExtraFieldsNeverLeave() throws {
        func member(_ text: String, flag: UInt8, field: [UInt8]) -> [UInt8] {
            var bytes = Self.gzip(text)
            bytes[3] |= flag
            bytes.insert(contentsOf: field, at: 10)
            return bytes
        }
        let name = Array("Nightingale-plan.json".utf8) + [0]
        for body in [
            member("{\"t\":\"fine\"}", flag: 0x08, field: name),
            member("{\"t\":\"fine\"}", flag: 0x10, field: name),
            member("{\"t\":\"fine\"}", flag: 0x04, field: [UInt8(name.count), 0] + name),
            Self.gzip("{\"t\":") + member("\"fine\"}", flag: 0x08, field: name),
        ] {
            let out = try #require(outcome(body, type: "application/json", encoding: "gzip").forwardedBody)
            #expect(!String(decoding: out, as: UTF8.self).contains("Nightingale"))
            #expect(try Self.gunzip(out) == "{\"t\":\"fine\"}")
        }
    }

    @Test func theDecompressedSizeLimitCountsEveryMember() throws {
        let limited = try Redactor(
            policy: makePolicy(terms: [codenames]),
            keys: testKeys,
            limits: DecompressionLimits(maxBytes: 1000, setting: "limits.max_body_bytes")
        )
        let member = Self.gzip(String(repeating: "x", count: 600))
        let one = limited.redact(body: member, contentType: "text/plain", contentEncoding: "gzip", vendor: "v")
        #expect(one.forwardedBody == member)
        let two = limited.redact(body: member + member, contentType: "text/plain", contentEncoding: "gzip", vendor: "v")
        guard case .uninspectable(let reason, _) = two else {
            Issue.record("expected uninspectable, got \(two)")
            return
        }
        #expect(reason.contains("max_body_bytes") && reason.contains("1000"), "\(reason)")
    }

    /// The request limit does not cap responses: restoring decodes with the response limits
    /// (`limits.max_response_bytes` in the proxy).
    @Test func responsesAreDecodedWithTheirOwnLimit() throws {
        let terms = TermRule(id: "models", label: "MODEL", action: .pseudonymize, values: ["Tidewater"])
        let limited = try Redactor(
            policy: makePolicy(terms: [terms]),
            keys: testKeys,
            limits: DecompressionLimits(maxBytes: 1000),
            responseLimits: DecompressionLimits(maxBytes: 4000)
        )
        let response = Self.gzip(String(repeating: "y", count: 3000))
        #expect(
            try limited.restore(body: response, contentType: "text/plain", contentEncoding: "gzip", vendor: "v")
                == response
        )
        let tooLarge = Self.gzip(String(repeating: "y", count: 5000))
        #expect(throws: RedactionError.self) {
            try limited.restore(body: tooLarge, contentType: "text/plain", contentEncoding: "gzip", vendor: "v")
        }
    }
}
