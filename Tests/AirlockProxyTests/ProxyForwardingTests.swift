import AirlockProxy
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Requests that go through: what the vendor sees, connection reuse on both legs, the seam, shutdown, metrics.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ProxyForwardingTests {
    @Test func forwardsMethodPathQueryAndBodyUnchanged() async throws {
        let harness = try await ProxyHarness()
        let vendorPort = harness.vendor.port
        let body = "{\"instruction\": \"label this\", \"n\": 3}"
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", body,
            harness.url("/scale/v1/task/abc?priority=high"),
        ])
        await harness.close()
        #expect(result.status == 200)
        let received = try #require(harness.vendor.requests.first)
        #expect(received.method == "POST")
        #expect(received.uri == "/v1/task/abc?priority=high")
        #expect(received.bodyText == body)
        #expect(received.header("content-length") == String(body.utf8.count))
        #expect(received.header("content-type") == "application/json")
        #expect(received.header("host") == "127.0.0.1:\(vendorPort)")
        #expect(received.headers.filter { $0.name.lowercased() == "host" }.count == 1, "\(received.headers)")
        // The lab gets the vendor's answer.
        #expect(echoed(result.body)?["body"] as? String == body)
    }

    @Test func keepAliveReusesOneConnectionOnBothLegs() async throws {
        let harness = try await ProxyHarness()
        let urls = (1...4).map { harness.url("/scale/v1/task/\($0)") }
        let result = try await harness.curl(["-d", "{\"n\": 1}"] + urls)
        await harness.close()
        let transfers = result.transfers
        #expect(transfers.map(\.status) == [200, 200, 200, 200])
        // curl opened one connection to Airlock and reused it.
        #expect(transfers.map(\.connects) == [1, 0, 0, 0])
        // Airlock opened one connection to the vendor and reused it.
        #expect(harness.vendor.connectionCount == 1)
        #expect(harness.vendor.requests.map(\.connection) == [1, 1, 1, 1])
        #expect(harness.vendor.requests.map(\.uri) == (1...4).map { "/v1/task/\($0)" })
    }

    @Test func headKeepsTheVendorsLengthAndTheConnectionsStayUsable() async throws {
        let harness = try await ProxyHarness()
        let head = harness.url("/scale/v1/task/h")
        let result = try await harness.curl([
            "-I", head, "--next", "--cacert", harness.certificates.caCertificatePath,
            "-w", Curl.marker + "%{http_code} %{num_connects}\n", "-d", "{}",
            harness.url("/scale/v1/task/after"),
        ])
        await harness.close()
        #expect(result.transfers.map(\.status) == [200, 200])
        #expect(result.transfers.map(\.connects) == [1, 0])
        #expect(result.stdout.lowercased().contains("content-length: "))
        #expect(harness.vendor.requests.map(\.method) == ["HEAD", "POST"])
        #expect(harness.vendor.connectionCount == 1)
    }

    @Test func headersThatRevealTheLabOrAreHopByHopAreStripped() async throws {
        var options = ProxyHarness.Options()
        options.headers = ["X-Custom"]
        let harness = try await ProxyHarness(options)
        let vendorPort = harness.vendor.port
        let result = try await harness.curl([
            "-H", "Via: 1.1 gateway.corp.example.com", "-H", "X-Forwarded-For: 10.20.30.40",
            "-H", "X-Forwarded-Host: airlock.corp.example.com", "-H", "Forwarded: for=10.20.30.40;by=gw",
            "-H", "X-Real-IP: 10.20.30.40", "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: hunter2",
            "-H", "Keep-Alive: timeout=5", "-H", "TE: trailers", "-H", "Proxy-Authorization: Basic Zm9vOmJhcg==",
            "-H", "Upgrade: h2c", "-H", "Authorization: Bearer vendor-key", "-H", "X-Custom: kept",
            "-H", "Referer: https://wiki.corp.example.com/nightingale", "-H", "Origin: https://tools.corp.example.com",
            "-d", "{}", harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 200)
        let received = try #require(harness.vendor.requests.first)
        let names = Set(received.headers.map { $0.name.lowercased() })
        for stripped in [
            "via", "x-forwarded-for", "x-forwarded-host", "forwarded", "x-real-ip", "x-secret",
            "keep-alive", "te", "proxy-authorization", "upgrade", "transfer-encoding", "referer", "origin",
        ] {
            #expect(!names.contains(stripped), "\(stripped) reached the vendor")
        }
        #expect(received.headers.allSatisfy { !$0.value.contains("10.20.30.40") && !$0.value.contains("corp.example") })
        #expect(received.header("host") == "127.0.0.1:\(vendorPort)")
        #expect(received.header("authorization") == "Bearer vendor-key")
        #expect(received.header("x-custom") == "kept")
    }

    @Test func onlyAllowlistedHeadersReachTheVendor() async throws {
        let harness = try await ProxyHarness()
        let result = try await harness.curl([
            "-H", "X-Internal-Project: Nightingale", "-H", "Cookie: session=lab-sso", "-H", "X-Trace-Id: run-4411",
            "-H", "Authorization: Bearer vendor-key", "-H", "Idempotency-Key: task-17", "-H",
            "Content-Type: application/json",
            "-d", "{}", harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 200)
        let received = try #require(harness.vendor.requests.first)
        let names = Set(received.headers.map { $0.name.lowercased() })
        #expect(names.isDisjoint(with: ["x-internal-project", "cookie", "x-trace-id"]), "\(names)")
        #expect(received.header("authorization") == "Bearer vendor-key")
        #expect(received.header("idempotency-key") == "task-17")
        #expect(received.header("content-type") == "application/json")
    }

    @Test func blockingInspectorRefusesWith403AndVendorSeesNothing() async throws {
        var options = ProxyHarness.Options()
        options.inspector = BlockingInspector()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl(["-d", "{\"project\": \"Nightingale\"}", harness.url("/scale/v1/task/x")])
        await harness.close()
        #expect(result.status == 403)
        #expect(errorCode(result.body) == "blocked_by_policy")
        #expect(result.body.contains("\"rule\": \"codenames\""))
        #expect(!result.body.contains("Nightingale"))
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func rewritingInspectorChangesWhatTheVendorSeesAndRestoresTheResponse() async throws {
        var options = ProxyHarness.Options()
        let recorder = CollectingRecorder()
        options.inspector = RewritingInspector()
        options.recorder = recorder
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d",
            "{\"project\": \"Nightingale\", \"note\": \"short\"}",
            harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        #expect(result.status == 200)
        let received = try #require(harness.vendor.requests.first)
        let rewritten = "{\"project\": \"CODENAME_1\", \"note\": \"short\"}"
        #expect(received.bodyText == rewritten)
        #expect(received.header("content-length") == String(rewritten.utf8.count))
        #expect(!received.bodyText.contains("Nightingale"))
        // transformResponse put the original name back for the lab.
        #expect(result.body.contains("Nightingale"))
        #expect(!result.body.contains("CODENAME_1"))
        let records = recorder.decisions
        #expect(records.count == 1)
        #expect(records.first?.decision == .forwarded)
        #expect(records.first?.forwarded?.body.readableBytes == rewritten.utf8.count)
        #expect(await eventually { recorder.outcomes.first?.vendorStatus == 200 })
    }

    @Test func gracefulShutdownFinishesInFlightRequestsAndRefusesNewConnections() async throws {
        let harness = try await ProxyHarness()
        harness.vendor.behavior = .delay(.milliseconds(1500))
        let url = harness.url("/scale/v1/task/slow")
        let ca = harness.certificates.caCertificatePath
        let slow = Task.detached { try await Curl.run(["--cacert", ca, "-d", "{\"slow\": true}", url]) }
        #expect(await eventually { harness.vendor.requests.count == 1 })
        let shutdown = Task { await harness.server.shutdown(gracePeriod: .seconds(10)) }
        #expect(await eventually { !harness.server.isReady })
        // The listener is closed: a new connection is refused (curl exit 7) while the slow request is in flight.
        var refused = false
        for _ in 0..<50 {
            let attempt = try await Curl.run(["--cacert", ca, harness.url("/scale/v1/task/new")], timeout: 5)
            if attempt.exitCode == 7 {
                refused = true
                break
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(refused)
        #expect(harness.vendor.requests.count == 1)
        let slowResult = try await slow.value
        #expect(slowResult.status == 200)
        #expect(echoed(slowResult.body)?["body"] as? String == "{\"slow\": true}")
        await shutdown.value
        await harness.close()
    }

    @Test func adminEndpointsAndMetrics() async throws {
        let harness = try await ProxyHarness()
        _ = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/a?token=SECRETQUERY")])
        _ = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/b")])
        _ = try await harness.curl([harness.url("/unknown")])
        let admin = "http://127.0.0.1:\(harness.adminPort)"
        let health = try await Curl.run([admin + "/healthz"])
        let ready = try await Curl.run([admin + "/readyz"])
        let metrics = try await Curl.run([admin + "/metrics"])
        await harness.close()
        #expect(health.status == 200)
        #expect(ready.status == 200)
        #expect(metrics.status == 200)
        let text = metrics.body
        #expect(text.contains("# TYPE airlock_requests_total counter"))
        #expect(text.contains("airlock_requests_total{vendor=\"scale\",status=\"200\"} 2"))
        #expect(text.contains("airlock_requests_total{vendor=\"none\",status=\"404\"} 1"))
        #expect(text.contains("# TYPE airlock_upstream_latency_seconds histogram"))
        #expect(text.contains("airlock_upstream_latency_seconds_count{vendor=\"scale\"} 2"))
        #expect(text.contains("airlock_upstream_latency_seconds_bucket{vendor=\"scale\",le=\"+Inf\"} 2"))
        #expect(text.contains("airlock_upstream_connections{vendor=\"scale\"} 1"))
        #expect(text.contains("airlock_body_bytes_total{vendor=\"scale\",direction=\"lab_to_airlock\"} 4"))
        #expect(!text.contains("SECRETQUERY"))
        #expect(!text.contains("/v1/task"))
    }

    @Test func readyzIsNotReadyAfterShutdownBegins() async throws {
        let harness = try await ProxyHarness()
        #expect(harness.server.isReady)
        await harness.server.shutdown(gracePeriod: .seconds(1))
        #expect(!harness.server.isReady)
        await harness.close()
    }
}

/// Blocks anything mentioning a codename, as the redaction engine will.
struct BlockingInspector: EgressInspector {
    func inspect(_ request: EgressRequest) throws -> EgressDecision {
        if request.body.getString(at: request.body.readerIndex, length: request.body.readableBytes)?
            .contains("Nightingale") == true
        {
            return .refuse(
                EgressRefusal(
                    status: .forbidden,
                    code: "blocked_by_policy",
                    message: "a codename may not leave",
                    rule: "codenames"
                )
            )
        }
        return .forward(request)
    }
}

/// Pseudonymises one codename on the way out and restores it on the way back.
struct RewritingInspector: EgressInspector {
    func inspect(_ request: EgressRequest) throws -> EgressDecision {
        var request = request
        let text = request.body.getString(at: request.body.readerIndex, length: request.body.readableBytes) ?? ""
        request.body = ByteBuffer(string: text.replacingOccurrences(of: "Nightingale", with: "CODENAME_1"))
        return .forward(request)
    }

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        var response = response
        let text = response.body.getString(at: response.body.readerIndex, length: response.body.readableBytes) ?? ""
        response.body = ByteBuffer(string: text.replacingOccurrences(of: "CODENAME_1", with: "Nightingale"))
        return response
    }
}

final class CollectingRecorder: EgressRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private var _decisions: [EgressDecisionRecord] = []
    private var _outcomes: [EgressOutcomeRecord] = []
    var decisions: [EgressDecisionRecord] { self.lock.withLock { self._decisions } }
    var outcomes: [EgressOutcomeRecord] { self.lock.withLock { self._outcomes } }
    func recordDecision(_ record: EgressDecisionRecord) async throws {
        self.lock.withLock { self._decisions.append(record) }
    }
    func recordOutcome(_ record: EgressOutcomeRecord) async throws {
        self.lock.withLock { self._outcomes.append(record) }
    }
}
