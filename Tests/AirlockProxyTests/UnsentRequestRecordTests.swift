import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// A request whose vendor could not be reached (connect refused, certificate or pin not verified) never left: the
/// audit log records it as an `error` decision with the refusal's code and no forwarded bytes, not as `forwarded`
/// followed by an error outcome.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UnsentRequestRecordTests {
    func decisions(
        _ configure: (inout ProxyHarness.Options) throws -> Void
    ) async throws -> (result: CurlResult, entries: [AuditEntry], harness: ProxyHarness) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-unsent-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = ProxyHarness.Options()
        try configure(&options)
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: directory, options: options)
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"project": "Project Falcon"}"#,
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        try await log.close()
        let entries = try AuditLogReader(directory: directory).entries().filter {
            $0.event == .decision || $0.event == .outcome
        }
        return (result, entries, harness)
    }

    @Test func aRefusedConnectIsRecordedAsNotForwarded() async throws {
        let port = try closedPort()
        let (result, entries, _) = try await self.decisions { $0.upstreamPort = port }
        #expect(result.status == 502 && errorCode(result.body) == "vendor_unreachable")
        try #require(entries.count == 1, "\(entries)")
        #expect(entries[0].event == .decision && entries[0].decision == .error)
        #expect(entries[0].reason == "vendor_unreachable" && entries[0].status == 502)
        #expect(entries[0].forwardedBytes == nil && entries[0].body == nil)
        // What the policy found is still on record.
        #expect(entries[0].findings?.map(\.id) == ["codenames"])
    }

    @Test func aVendorFailingVerificationIsRecordedAsNotForwarded() async throws {
        let wrongPin = Data(repeating: 7, count: 32).base64EncodedString()
        let (result, entries, harness) = try await self.decisions { $0.pins = [wrongPin] }
        #expect(result.status == 502 && errorCode(result.body) == "vendor_tls_verification_failed")
        try #require(entries.count == 1, "\(entries)")
        #expect(entries[0].decision == .error && entries[0].reason == "vendor_tls_verification_failed")
        #expect(entries[0].forwardedBytes == nil)
        #expect(harness.vendor.plaintextBytesReceived == 0)
    }

    @Test func aForwardedRequestStillHasItsDecisionBeforeItsOutcome() async throws {
        let (result, entries, harness) = try await self.decisions { _ in }
        #expect(result.status == 200)
        #expect(entries.map(\.event) == [.decision, .outcome])
        #expect(
            entries[0].decision == .forwarded && entries[0].forwardedBytes == harness.vendor.requests.first?.body.count
        )
        #expect(entries[1].status == 200)
    }
}
