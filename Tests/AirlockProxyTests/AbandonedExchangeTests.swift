import AirlockProxy
import Foundation
import Testing

/// A lab that goes away while its request is being inspected: nothing is recorded, so nothing is sent, and the vendor
/// connection opened for it goes back to the pool instead of being held by an exchange that never ends.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AbandonedExchangeTests {
    /// Holds every inspection until the test lets it go, then forwards the request as it is or refuses it.
    final class GatedInspector: EgressInspector, @unchecked Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        var refusal: EgressRefusal?

        func inspect(_ request: EgressRequest) throws -> EgressDecision {
            self.entered.signal()
            _ = self.release.wait(timeout: .now() + 30)
            return self.refusal.map { .refuse($0) } ?? .forward(request)
        }
    }

    /// Sends a body inspected off the event loop, gives up after a second (the request still held in inspection),
    /// waits until the proxy has seen the lab go, then lets the inspection finish.
    func abandon(_ harness: ProxyHarness, inspector: GatedInspector) async throws -> (CurlResult, Bool) {
        // Above `SeamRunner.eventLoopBodyLimit`: inspected off the event loop, so the lab's close is seen meanwhile.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-abandoned-\(UUID())")
        try Data(repeating: UInt8(ascii: "a"), count: SeamRunner.eventLoopBodyLimit + 4096).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let lab = try await harness.curl(
            ["-H", "Content-Type: text/plain", "--data-binary", "@\(file.path)", harness.url("/scale/v1/task/1")],
            timeout: 1
        )
        let inspected = inspector.entered.wait(timeout: .now() + 10) == .success
        let labGone = await eventually {
            harness.server.metrics.registry.render().contains("airlock_client_connections 0")
        }
        inspector.release.signal()
        return (lab, inspected && labGone)
    }

    @Test func aLabGoneBeforeTheVendorConnectionIsReadyDoesNotHoldThatConnection() async throws {
        let inspector = GatedInspector()
        let recorder = CollectingRecorder()
        var options = ProxyHarness.Options()
        options.inspector = inspector
        options.recorder = recorder
        options.pool = "{max_connections: 4, idle_timeout_seconds: 0.2}"
        let harness = try await ProxyHarness(options)
        let (lab, abandoned) = try await self.abandon(harness, inspector: inspector)
        // The exchange goes on without its lab: a vendor connection is opened for it, nothing is recorded or sent,
        // and that connection is handed back (then closed as idle).
        let connected = await eventually { harness.vendor.connectionCount == 1 }
        let released = await eventually(timeout: 5) {
            harness.server.metrics.registry.render().contains("airlock_upstream_connections{vendor=\"scale\"} 0")
        }
        await harness.close()
        #expect(lab.status != 200, "\(lab.stderr)")
        #expect(abandoned && connected)
        #expect(released, "the vendor connection is held by an exchange whose lab went away")
        #expect(harness.vendor.requests.isEmpty)
        #expect(recorder.decisions.isEmpty)
    }

    /// A refusal is recorded whether or not the lab is still there to read it: a lab that sends what the policy
    /// blocks and hangs up at once leaves the block in the audit log all the same.
    @Test func aRefusalIsRecordedAfterTheLabWentAway() async throws {
        let inspector = GatedInspector()
        inspector.refusal = EgressRefusal(status: .forbidden, code: "blocked_by_policy", message: "test", rule: "r")
        let recorder = CollectingRecorder()
        var options = ProxyHarness.Options()
        options.inspector = inspector
        options.recorder = recorder
        let harness = try await ProxyHarness(options)
        let (lab, abandoned) = try await self.abandon(harness, inspector: inspector)
        let recorded = await eventually(timeout: 5) { !recorder.decisions.isEmpty }
        await harness.close()
        #expect(lab.status != 200, "\(lab.stderr)")
        #expect(abandoned)
        #expect(recorded, "the refusal of a request whose lab went away is not in the audit log")
        #expect(recorder.decisions.map(\.decision) == [.blocked])
        #expect(harness.vendor.connectionCount == 0)
    }
}
