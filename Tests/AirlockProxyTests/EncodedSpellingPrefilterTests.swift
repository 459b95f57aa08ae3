import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// Found by the adversarial review: the proxy skipped a header value or URL part whose raw bytes the single-pass
/// database did not hit (`Redactor.mayMatch`), but percent-escaped, NFKC-folded and invisible-character spellings
/// match only once decoded or folded, and a `data:` URL's base64 once decoded, which the raw scan never sees. Both
/// tests fail on the prefilter that read the bytes literally.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct EncodedSpellingPrefilterTests {
    @Test func encodedSpellingsInHeaderValuesAreInspected() async throws {
        let directory = try HeaderInspectionTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = ProxyHarness.Options()
        options.headers = ["x-a", "x-b", "x-c", "x-d"]
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: directory, options: options)
        let result = try await harness.curl([
            "-H", "X-A: Night%69ngale", "-H",
            "X-B: \u{FF2E}\u{FF29}\u{FF27}\u{FF28}\u{FF34}\u{FF29}\u{FF2E}\u{FF27}\u{FF21}\u{FF2C}\u{FF25}",
            "-H", "X-C: Night\u{200B}ingale", "-H", "X-D: data:text/plain;base64,TmlnaHRpbmdhbGU=",
            "-H", "Content-Type: application/json", "-d", #"{"a": 1}"#, harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        try await log.close()
        #expect(result.status == 200, "\(result.body)")
        let received = try #require(harness.vendor.requests.first)
        for name in ["x-a", "x-b", "x-c"] {
            let value = received.header(name) ?? ""
            #expect(value.contains("CODENAME_"), "\(name) left as \(value)")
        }
        // The embedded payload is re-encoded with the pseudonym inside: it must not leave as sent.
        #expect(received.header("x-d") != "data:text/plain;base64,TmlnaHRpbmdhbGU=")
    }

    /// The same prefilter in `URLPartRedaction.isPlainAndClean`: a `data:` URL in a query value, with no `%`, `+`
    /// or non-ASCII byte, was never decoded.
    @Test func aDataURLInAQueryValueIsInspected() async throws {
        let directory = try HeaderInspectionTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: directory, options: .init())
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"a": 1}"#,
            harness.url("/scale/v1/task/x?img=data:text/plain;base64,TmlnaHRpbmdhbGU="),
        ])
        await harness.close()
        try await log.close()
        #expect(result.status == 200, "\(result.body)")
        let received = try #require(harness.vendor.requests.first)
        #expect(!received.uri.contains("TmlnaHRpbmdhbGU"), "\(received.uri)")
    }
}
