import AirlockProxy
import Foundation
import NIOCore
import Testing

/// What the lab gets when the vendor's answer cannot be passed on: too large for `limits.max_response_bytes` (502
/// `vendor_response_too_large`), or not restorable (502 `response_inspection_failed`). Never any of the vendor's bytes.
@Suite(.timeLimit(.minutes(2)))
struct ResponseRefusalTests {
    /// The stand-in echoes the request, so the answer is a little larger than what was sent.
    static func task(padding: Int) -> String {
        #"{"marker": "VENDOR-ECHO-MARKER", "pad": ""# + String(repeating: "p", count: padding) + #""}"#
    }

    @Test func anOversizedVendorResponseIs502AndNoneOfItReachesTheLab() async throws {
        var options = ProxyHarness.Options()
        options.maxResponseBytes = 2048
        let recorder = CollectingRecorder()
        options.recorder = recorder
        let harness = try await ProxyHarness(options)
        let url = harness.url("/scale/v1/task/1")
        let fits = try await harness.curl(["-H", "Content-Type: application/json", "-d", Self.task(padding: 100), url])
        let tooLarge = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", Self.task(padding: 4000), url,
        ])
        await harness.close()
        #expect(fits.status == 200 && fits.body.contains("VENDOR-ECHO-MARKER"))
        #expect(tooLarge.status == 502, "\(tooLarge.body)")
        #expect(errorCode(tooLarge.body) == "vendor_response_too_large", "\(tooLarge.body)")
        #expect(!tooLarge.body.contains("VENDOR-ECHO-MARKER") && !tooLarge.body.contains("ppppp"))
        // The vendor did answer (the request left); the outcome says why the lab did not get it.
        #expect(harness.vendor.requests.count == 2)
        #expect(recorder.outcomes.last?.error == "response_too_large", "\(recorder.outcomes.map(\.error))")
    }

    @Test func aResponseThatCannotBeRestoredIs502AndNoneOfItReachesTheLab() async throws {
        var options = ProxyHarness.Options()
        options.inspector = UnrestorableResponses()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", Self.task(padding: 10), harness.url("/scale/v1/task/1"),
        ])
        await harness.close()
        #expect(harness.vendor.requests.count == 1)
        #expect(result.status == 502, "\(result.body)")
        #expect(errorCode(result.body) == "response_inspection_failed", "\(result.body)")
        #expect(!result.body.contains("VENDOR-ECHO-MARKER"), "\(result.body)")
    }
}

/// Forwards every request as it is; restoring any response fails, as a body in an encoding the restore cannot
/// decode does.
struct UnrestorableResponses: EgressInspector {
    struct Failure: Error {}

    func inspect(_ request: EgressRequest) async throws -> EgressDecision { .forward(request) }

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) async throws -> EgressResponse {
        throw Failure()
    }

    func transformResponseOnEventLoop(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse?
    {
        throw Failure()
    }
}
