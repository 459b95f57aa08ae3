import AirlockProxy
import Foundation
import Testing

@testable import AirlockAudit

/// The audit log's durability seen from the proxy, through a file layer between the log and the disk: a request's
/// decision is synced before the first byte of it reaches the vendor, and a failing sync refuses the request.
/// (A SIGKILL keeps the page cache, so killing a process cannot tell a write from a write plus a sync.)
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AuditSyncTests {
    static func auditDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("airlock-sync-\(UUID())/audit")
    }

    @Test func theDecisionIsSyncedBeforeTheVendorReceivesAByte() async throws {
        let directory = Self.auditDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let probe = SyncProbe()
        let log = try await AuditLog.open(probe.configuration(directory: directory))
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        options.recorder = AuditRecorder(log: log)
        let harness = try await ProxyHarness(options)
        let vendor = harness.vendor
        probe.observeVendor { vendor.plaintextBytesReceived }
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"task": "label this"}"#, harness.url("/scale/v1/task/1"),
        ])
        await harness.close()
        try await log.close()
        #expect(result.status == 200, "\(result.body)")
        #expect(vendor.plaintextBytesReceived > 0)

        // The write that carries the decision, then a sync of that file that returned before the vendor had a byte.
        let events = probe.events
        let decisionWrite = try #require(
            events.firstIndex {
                if case .write(let path, let bytes) = $0 {
                    return path.hasSuffix(".jsonl")
                        && String(decoding: bytes, as: UTF8.self).contains(#""event":"decision""#)
                }
                return false
            },
            "no write carried the decision"
        )
        guard case .write(let logPath, _) = events[decisionWrite] else { return }
        let sync = events[(decisionWrite + 1)...].first {
            if case .sync(let path, _) = $0 { return path == logPath }
            return false
        }
        guard case .sync(_, let vendorBytes)? = sync else {
            Issue.record("the decision's write was never synced: \(events.count) events")
            return
        }
        #expect(vendorBytes == 0, "the vendor had \(vendorBytes) bytes before the decision was durable")
    }

    @Test func aFailingSyncRefusesTheRequest503AndNothingLeaves() async throws {
        let directory = Self.auditDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let probe = SyncProbe()
        let log = try await AuditLog.open(probe.configuration(directory: directory))
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        options.recorder = AuditRecorder(log: log)
        let harness = try await ProxyHarness(options)
        probe.failSyncs()
        var results: [CurlResult] = []
        for index in 0..<2 {
            results.append(
                try await harness.curl([
                    "-H", "Content-Type: application/json", "-d", #"{"task": \#(index)}"#,
                    harness.url("/scale/v1/task/\(index)"),
                ])
            )
        }
        let refusals = metricSample(
            #"airlock_requests_total{vendor="scale",status="503"}"#,
            adminPort: harness.adminPort
        )
        await harness.close()
        try? await log.close()
        // The first fails on its sync; the log then stays stopped, and the next is refused too.
        for result in results {
            #expect(result.status == 503 && errorCode(result.body) == "audit_unavailable", "\(result.body)")
        }
        #expect(refusals == 2)
        #expect(harness.vendor.plaintextBytesReceived == 0)
        #expect(harness.vendor.requests.isEmpty)
    }
}
