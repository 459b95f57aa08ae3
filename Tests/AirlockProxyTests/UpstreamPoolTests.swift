import AirlockProxy
import Foundation
import Testing

/// The per-vendor pool: bounded, reused, and idle connections retired.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UpstreamPoolTests {
    @Test func concurrentRequestsWaitForTheBoundedPool() async throws {
        var options = ProxyHarness.Options()
        options.pool = "{max_connections: 2}"  // one per event loop with the harness's two loops
        let harness = try await ProxyHarness(options)
        harness.vendor.behavior = .delay(.milliseconds(300))
        let ca = harness.certificates.caCertificatePath
        let urls = (1...6).map { harness.url("/scale/v1/task/\($0)") }
        let results = try await withThrowingTaskGroup(of: CurlResult.self) { group in
            for url in urls {
                group.addTask { try await Curl.run(["--cacert", ca, "-d", "{}", url]) }
            }
            var collected: [CurlResult] = []
            for try await result in group { collected.append(result) }
            return collected
        }
        await harness.close()
        #expect(results.map(\.status) == Array(repeating: 200, count: 6))
        #expect(harness.vendor.requests.count == 6)
        #expect(harness.vendor.connectionCount <= 2)
    }

    @Test func idleConnectionsAreClosedAfterTheIdleTimeout() async throws {
        var options = ProxyHarness.Options()
        options.pool = "{max_connections: 4, idle_timeout_seconds: 0.2}"
        let harness = try await ProxyHarness(options)
        let first = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/1")])
        let closed = await eventually(timeout: 5) {
            harness.server.metrics.registry.render().contains("airlock_upstream_connections{vendor=\"scale\"} 0")
        }
        let second = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/2")])
        await harness.close()
        #expect(first.status == 200)
        #expect(closed)
        #expect(second.status == 200)
        #expect(harness.vendor.connectionCount == 2)
    }
}
