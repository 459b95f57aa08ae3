import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// Bodies above `SeamRunner.eventLoopBodyLimit` take the off-loop path (inspection, restore and audit hashing on
/// the seam threads); small ones the event-loop fast path. Both must redact, restore, record and fail closed alike.
@Suite(.timeLimit(.minutes(2)))
struct LargeBodyPathTests {
    @Test func largeBodiesAreRedactedRestoredAndRecordedOffTheLoop() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-large-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try await AuditLog.open(AuditConfiguration(directory: directory.appendingPathComponent("audit")))
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        options.recorder = AuditRecorder(log: log)
        let harness = try await ProxyHarness(options)

        let filler = String(repeating: "lorem ipsum dolor sit amet ", count: 12_000)
        let forwardedBody = #"{"project": "Project Falcon", "notes": "\#(filler) ask jane.doe@lab.example.com"}"#
        let blockedBody = #"{"notes": "\#(filler)", "key": "AKIAIOSFODNN7EXAMPLE"}"#
        #expect(forwardedBody.utf8.count > SeamRunner.eventLoopBodyLimit)
        let forwardedFile = directory.appendingPathComponent("forwarded.json")
        let blockedFile = directory.appendingPathComponent("blocked.json")
        try forwardedBody.write(to: forwardedFile, atomically: true, encoding: .utf8)
        try blockedBody.write(to: blockedFile, atomically: true, encoding: .utf8)

        let blocked = try await harness.curl([
            "-H", "Content-Type: application/json", "--data-binary", "@\(blockedFile.path)",
            harness.url("/scale/v1/task/y"),
        ])
        let forwarded = try await harness.curl([
            "-H", "Content-Type: application/json", "--data-binary", "@\(forwardedFile.path)",
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        try await log.close()

        #expect(blocked.status == 403)
        #expect(forwarded.status == 200)
        #expect(harness.vendor.requests.count == 1)
        let received = try #require(harness.vendor.requests.first).bodyText
        #expect(!received.contains("Falcon") && received.contains("CODENAME_"))
        #expect(!received.contains("jane.doe") && received.contains("[REDACTED:EMAIL]"))
        // The vendor echoes what it received; the lab gets its own names back.
        #expect(forwarded.body.contains("Project Falcon"))

        let decisions = try AuditLogReader(directory: directory.appendingPathComponent("audit")).entries()
            .filter { $0.event == .decision }
        #expect(decisions.map(\.decision) == [.blocked, .forwarded])
        #expect(decisions.last?.forwardedBytes == harness.vendor.requests.first?.body.count)
        let summary = try AuditVerifier.verify(directory: directory.appendingPathComponent("audit"), checkBodies: true)
        #expect(summary.decisions == 2)
    }
}
