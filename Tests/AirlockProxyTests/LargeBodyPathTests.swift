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

    /// The vendor leg writes a body of more than 64 KiB after its head in paced slices of 512 KiB, not as one copy:
    /// a body of many slices (the last one partial), unchanged or rewritten, reaches the vendor whole and in order.
    @Test func aBodyOfManySlicesReachesTheVendorWholeAndInOrder() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-slices-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        options.maxBodyBytes = 16 * 1024 * 1024
        let harness = try await ProxyHarness(options)

        // Every entry is numbered: a slice lost, sent twice or out of order changes the body.
        let entries = (0..<90_000).map { #""entry \#($0) lorem ipsum dolor sit amet""# }.joined(separator: ",")
        let plain = #"{"lines": [\#(entries)]}"#
        let named = #"{"project": "Project Falcon", "lines": [\#(entries)], "end": "Project Falcon"}"#
        #expect(plain.utf8.count > 3 * 1024 * 1024 + 1000)
        var statuses: [Int] = []
        var echoes: [String] = []
        for (name, body) in [("plain", plain), ("named", named)] {
            let file = directory.appendingPathComponent("\(name).json")
            try body.write(to: file, atomically: true, encoding: .utf8)
            let result = try await harness.curl(
                [
                    "-H", "Content-Type: application/json", "--data-binary", "@\(file.path)",
                    harness.url("/scale/v1/task/x"),
                ],
                timeout: 60
            )
            statuses.append(result.status)
            echoes.append(result.body)
        }
        await harness.close()

        #expect(statuses == [200, 200])
        let received = harness.vendor.requests
        #expect(received.count == 2)
        // Nothing matched: the lab's own bytes, exactly.
        // (Compared outside the expectations: a failure would print megabytes.)
        let identical = received.first?.body == Array(plain.utf8)
        #expect(identical, "\(received.first?.body.count ?? 0) of \(plain.utf8.count) bytes received")
        // Rewritten: the tokens left, and the echo restored on the way back is the lab's body again, byte for byte.
        let rewritten = received.last?.bodyText ?? ""
        let pseudonymised = !rewritten.contains("Falcon") && rewritten.contains("CODENAME_")
        #expect(pseudonymised)
        let echo = try? JSONSerialization.jsonObject(with: Data(echoes.last!.utf8)) as? [String: Any]
        let restored = (echo?["received"] as? [String: Any])?["body"] as? String
        let roundTrip = restored == named
        #expect(roundTrip, "\(restored?.utf8.count ?? 0) of \(named.utf8.count) bytes back")
    }
}
