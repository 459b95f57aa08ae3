import AirlockProxy
import AirlockStandIns
import Foundation
import NIOHTTP1
import NIOPosix
import Testing

/// Every refusal: the right status, a JSON error with the right code, and nothing at the vendor.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ProxyRefusalTests {
    @Test func unknownPrefixIs404AndVendorSeesNothing() async throws {
        let harness = try await ProxyHarness()
        let result = try await harness.curl(["-d", "{\"a\":1}", harness.url("/labelbox/v1/task/x")])
        await harness.close()
        #expect(result.status == 404)
        #expect(errorCode(result.body) == "unknown_vendor")
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func routeOutsideAllowlistIs403AndVendorSeesNothing() async throws {
        let harness = try await ProxyHarness()
        let delete = try await harness.curl(["-X", "DELETE", harness.url("/scale/v1/task/x")])
        let nested = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x/cancel")])
        let dotted = try await harness.curl(["--path-as-is", "-d", "{}", harness.url("/scale/v1/task/../../admin")])
        await harness.close()
        #expect(delete.status == 403)
        #expect(errorCode(delete.body) == "route_not_allowed")
        #expect(nested.status == 403)
        #expect(dotted.status == 400)
        #expect(errorCode(dotted.body) == "bad_request")
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func bodyOverLimitIs413ByContentLengthAndWhileStreaming() async throws {
        var options = ProxyHarness.Options()
        options.maxBodyBytes = 1000
        let harness = try await ProxyHarness(options)
        let big = String(repeating: "x", count: 5000)
        let declared = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", big,
            harness.url("/scale/v1/task/x"),
        ])
        // Chunked: no Content-Length, so the limit trips while buffering.
        let streamed = try await harness.curl([
            "-H", "Transfer-Encoding: chunked", "-d", big,
            harness.url("/scale/v1/task/x"),
        ])
        let justUnder = try await harness.curl([
            "-d", String(repeating: "y", count: 1000), harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(declared.status == 413)
        #expect(errorCode(declared.body) == "body_too_large")
        #expect(streamed.status == 413)
        #expect(errorCode(streamed.body) == "body_too_large")
        #expect(justUnder.status == 200, "\(justUnder.body)")
        // Only the request under the limit reached the vendor.
        #expect(harness.vendor.requests.count == 1)
        #expect(harness.vendor.requests.first?.body.count == 1000)
    }

    @Test func contentLengthWithTransferEncodingIs400() async throws {
        let harness = try await ProxyHarness()
        let result = try await harness.curl([
            "-H", "Transfer-Encoding: chunked", "-H", "Content-Length: 5", "-d", "hello",
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 400)
        #expect(errorCode(result.body) == "bad_request")
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func untrustedVendorCertificateIs502AndNoRequestByteIsSent() async throws {
        // A second vendor whose certificate comes from a CA Airlock does not trust.
        let other = try ThrowawayCertificates.create(commonName: "Some other CA")
        defer { other.remove() }
        let group = MultiThreadedEventLoopGroupHolder.shared
        let impostor = try await StandInVendor.start(group: group, serving: other)
        var options = ProxyHarness.Options()
        options.upstreamPort = impostor.port
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl(["-d", "{\"secret\": \"Nightingale\"}", harness.url("/scale/v1/task/x")])
        await harness.close()
        await impostor.stop()
        #expect(result.status == 502)
        #expect(errorCode(result.body) == "vendor_tls_verification_failed")
        #expect(impostor.connectionCount >= 1)  // the handshake was attempted ...
        #expect(impostor.plaintextBytesReceived == 0)  // ... and not one request byte got through
        #expect(impostor.requests.isEmpty)
    }

    @Test func pinMismatchIs502VerificationFailedAndTheRightPinPasses() async throws {
        var options = ProxyHarness.Options()
        options.pins = [Data(repeating: 7, count: 32).base64EncodedString()]
        let wrong = try await ProxyHarness(options)
        let refused = try await wrong.curl(["-d", "{}", wrong.url("/scale/v1/task/x")])
        await wrong.close()
        #expect(refused.status == 502)
        #expect(errorCode(refused.body) == "vendor_tls_verification_failed")
        #expect(wrong.vendor.plaintextBytesReceived == 0)
        #expect(wrong.vendor.requests.isEmpty)

        // Pinned to the vendor's real key (plus the wrong one), it goes through.
        options.pinTheVendorKey = true
        let right = try await ProxyHarness(options)
        let accepted = try await right.curl(["-d", "{}", right.url("/scale/v1/task/x")])
        await right.close()
        #expect(accepted.status == 200)
        #expect(right.vendor.requests.count == 1)
    }

    @Test func unreachableVendorIs502AndFailedConnectsFreeTheirPoolSlot() async throws {
        var options = ProxyHarness.Options()
        options.upstreamPort = try closedPort()
        options.pool = "{max_connections: 2}"
        let harness = try await ProxyHarness(options)
        var results: [CurlResult] = []
        for _ in 0..<4 {
            results.append(try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x")]))
        }
        await harness.close()
        #expect(results.map(\.status) == [502, 502, 502, 502])
        #expect(results.allSatisfy { errorCode($0.body) == "vendor_unreachable" })
    }

    @Test func vendorThatStallsTheHandshakeIs504AndDoesNotHoldThePool() async throws {
        // Accepts TCP, never speaks TLS.
        let group = MultiThreadedEventLoopGroupHolder.shared
        let silent = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        var options = ProxyHarness.Options()
        options.upstreamPort = silent.localAddress!.port!
        options.upstreamTimeoutSeconds = 0.3
        options.pool = "{max_connections: 2}"
        let harness = try await ProxyHarness(options)
        var results: [CurlResult] = []
        for _ in 0..<3 {
            results.append(try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x")]))
        }
        let released = await eventually(timeout: 5) {
            harness.server.metrics.registry.render().contains("airlock_upstream_connections{vendor=\"scale\"} 0")
        }
        await harness.close()
        try? await silent.close()
        #expect(results.map(\.status) == [504, 504, 504])
        #expect(results.allSatisfy { errorCode($0.body) == "vendor_timeout" })
        #expect(released)
    }

    @Test func slowVendorIs504() async throws {
        var options = ProxyHarness.Options()
        options.upstreamTimeoutSeconds = 0.5
        let harness = try await ProxyHarness(options)
        harness.vendor.behavior = .delay(.seconds(3))
        let started = Date()
        let result = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x")])
        let elapsed = Date().timeIntervalSince(started)
        await harness.close()
        #expect(result.status == 504)
        #expect(errorCode(result.body) == "vendor_timeout")
        #expect(elapsed < 2.5)
    }

    @Test func vendorClosingWithoutAnswerIs502() async throws {
        let harness = try await ProxyHarness()
        harness.vendor.behavior = .close
        let result = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x")])
        await harness.close()
        #expect(result.status == 502)
        #expect(errorCode(result.body) == "vendor_connection_closed")
    }

    @Test func recorderFailureIs503AndNothingLeaves() async throws {
        var options = ProxyHarness.Options()
        options.recorder = FailingRecorder()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl(["-d", "{\"task\": 1}", harness.url("/scale/v1/task/x")])
        await harness.close()
        #expect(result.status == 503)
        #expect(errorCode(result.body) == "audit_unavailable")
        // The decision is recorded once the vendor's connection is ready (so a vendor that cannot be reached is
        // recorded as not reached): the vendor may see a handshake, never a byte of the request.
        #expect(harness.vendor.plaintextBytesReceived == 0)
        #expect(harness.vendor.requests.isEmpty)
    }

    /// Refusals made before any policy saw the request do not wait for the audit log: with a recorder that never
    /// finishes a record, they are still answered (each used to wait for its own durable record).
    @Test func earlyRefusalsDoNotWaitForTheAuditLog() async throws {
        var options = ProxyHarness.Options()
        options.recorder = StallingRecorder()
        let harness = try await ProxyHarness(options)
        let route = try await harness.curl(["-X", "DELETE", harness.url("/scale/v1/task/x")], timeout: 10)
        let unknown = try await harness.curl([harness.url("/nowhere")], timeout: 10)
        await harness.close()
        #expect(route.status == 403 && errorCode(route.body) == "route_not_allowed", "\(route.stderr)")
        #expect(unknown.status == 404 && errorCode(unknown.body) == "unknown_vendor", "\(unknown.stderr)")
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func refusalsAreJSON() async throws {
        let harness = try await ProxyHarness()
        let result = try await harness.curl(["-i", harness.url("/nope")])
        await harness.close()
        #expect(result.stdout.lowercased().contains("content-type: application/json"))
    }
}

struct FailingRecorder: EgressRecorder {
    struct DiskFull: Error {}
    func recordDecision(_ record: EgressDecisionRecord) async throws { throw DiskFull() }
    func recordOutcome(_ record: EgressOutcomeRecord) async throws { throw DiskFull() }
}

/// Never finishes recording a decision (a log stuck on its disk).
struct StallingRecorder: EgressRecorder {
    func recordDecision(_ record: EgressDecisionRecord) async throws {
        try await Task.sleep(nanoseconds: 3_600_000_000_000)
    }
    func recordOutcome(_ record: EgressOutcomeRecord) async throws {}
}

/// One shared group for helper servers that outlive a single harness.
enum MultiThreadedEventLoopGroupHolder {
    static let shared = NIOPosix.MultiThreadedEventLoopGroup.singleton
}
