import AirlockPolicy
import Testing

@testable import AirlockRedaction

/// Found by the adversarial review: refusal reasons quoted a declared charset or media type lower-cased, so a
/// case-sensitive pattern (`EVAL-[0-9]{6}`) could no longer scrub it, and the value reached the error body and the
/// audit log as `charset eval-123456`. Such values are not quoted now.
@Suite struct DeclaredParameterReasonTests {
    static let redactor: Redactor = {
        let policy = makePolicy(
            patterns: [PatternRule(id: "eval", label: "EVAL", action: .redact, regex: "EVAL-[0-9]{6}")]
        )
        return try! makeRedactor(policy)
    }()

    static func reason(_ body: String, _ contentType: String) -> String {
        switch redactor.redact(body: Array(body.utf8), contentType: contentType, contentEncoding: nil, vendor: "v") {
        case .forward(let out, _): return "forwarded: " + String(decoding: out, as: UTF8.self)
        case .block(_, let reason, _), .uninspectable(let reason, _): return reason
        }
    }

    @Test func aDeclaredCharsetOrMediaTypeIsNotQuotedInAReason() {
        let multipart =
            "--b\r\nContent-Disposition: form-data; name=\"f\"\r\nContent-Type: text/plain; charset=EVAL-123456\r\n\r\n"
            + "hello\r\n--b--\r\n"
        for (body, type) in [
            ("hello", "text/plain; charset=EVAL-123456"),
            (#"{"a":1}"#, "application/json; charset=\"EVAL-123456\""),
            (multipart, "multipart/form-data; boundary=b"),
            ("hello", "application/x-EVAL-123456"),
        ] {
            let reason = Self.reason(body, type)
            #expect(!reason.forwardedPrefix, "\(type): \(reason)")
            #expect(!reason.lowercased().contains("123456"), "\(type): \(reason)")
        }
    }
}

extension String {
    fileprivate var forwardedPrefix: Bool { hasPrefix("forwarded: ") }
}
