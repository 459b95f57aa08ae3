import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The leaks an adversarial review found after issue 11's fixes, one test each (each fails on the code before its
/// fix): see the commit that adds each test.
@Suite struct ReviewLeakTests {
    static let multipartType = "multipart/form-data; boundary=XyZ"
    static let policy = makePolicy(
        terms: [codenames],
        patterns: [PatternRule(id: "run-id", label: "RUN_ID", action: .redact, regex: "[0-9]{6}")]
    )

    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(Self.policy)
    }

    // MARK: Multipart: a part's declared type never changes

    /// A part's Content-Type that redaction would change (inside its `type/subtype`, or in a value that is not a
    /// media type at all, which the engine judged by content) is refused: the vendor would read a type nobody
    /// inspected. A codename in another parameter is redacted as before.
    @Test func aPartWhoseContentTypeRedactionWouldChangeIsRefused() {
        for contentType in ["text/x-Nightingale", "text/plain Nightingale", "Nightingale", "application/Nightingale+json"]
        {
            let body =
                "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: \(contentType)\r\n\r\n{\"k\":\"v\"}\r\n--XyZ--\r\n"
            let outcome = redacted(redactor, body, type: Self.multipartType)
            #expect(outcome.isUninspectable, "\(contentType): \(outcome)")
        }
        let parameter =
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; name=Nightingale\r\n\r\nhello\r\n--XyZ--\r\n"
        let out = forwarded(redactor, parameter, type: Self.multipartType) ?? ""
        #expect(out.contains("Content-Type: text/plain; name=[REDACTED:CODENAME]\r\n"), "\(out)")
    }
}
