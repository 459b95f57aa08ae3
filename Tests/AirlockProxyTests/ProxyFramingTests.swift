import Foundation
import Testing

/// Framing cases sent as raw bytes over TLS: smuggling attempts, pipelining behind refusals, odd targets.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ProxyFramingTests {
    func exchange(_ harness: ProxyHarness, _ request: String, wait: Int64 = 2) async throws -> RawTLSClient.Exchange {
        try await RawTLSClient.send(
            request,
            port: harness.port,
            caPath: harness.certificates.caCertificatePath,
            wait: .seconds(wait)
        )
    }

    @Test func bothFramingHeadersAreRefusedAndTheConnectionClosed() async throws {
        let harness = try await ProxyHarness()
        let result = try await self.exchange(
            harness,
            "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /scale/v1/task/y HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        await harness.close()
        #expect(result.statuses == [400])
        #expect(result.text.contains("\"code\": \"bad_request\""))
        #expect(result.closedByServer)
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func requestsPipelinedBehindAClosingRefusalAreDropped() async throws {
        let harness = try await ProxyHarness()
        let result = try await self.exchange(
            harness,
            "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                + "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
        )
        await harness.close()
        #expect(result.statuses == [404])
        #expect(result.closedByServer)
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func aRefusedBodyIsSkippedAndTheConnectionStaysUsable() async throws {
        let harness = try await ProxyHarness()
        let result = try await self.exchange(
            harness,
            "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
                + "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
            wait: 1
        )
        await harness.close()
        #expect(result.statuses == [404, 200])
        #expect(!result.closedByServer)
        #expect(harness.vendor.requests.count == 1)
        #expect(harness.vendor.requests.first?.bodyText == "{}")
    }

    @Test func silentClientsAreDisconnected() async throws {
        var options = ProxyHarness.Options()
        options.clientIdleTimeoutSeconds = 1
        let harness = try await ProxyHarness(options)
        let silent = try await self.exchange(harness, "", wait: 4)
        let partial = try await self.exchange(
            harness,
            "POST /scale/v1/task/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n{",
            wait: 4
        )
        await harness.close()
        #expect(silent.closedByServer)
        #expect(partial.closedByServer)
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let harness = try await ProxyHarness()
        var pipelined = ""
        for index in 1...3 {
            pipelined +=
                "POST /scale/v1/task/\(index) HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n{\"i\": \(index)}"
        }
        pipelined += "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
        pipelined += "POST /scale/v1/task/4 HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n{\"i\": 4}"
        let result = try await self.exchange(harness, pipelined, wait: 1)
        await harness.close()
        #expect(result.statuses == [200, 200, 200, 404, 200])
        let order = ["{\\\"i\\\": 1}", "{\\\"i\\\": 2}", "{\\\"i\\\": 3}", "{\\\"i\\\": 4}"].compactMap {
            result.text.range(of: $0)?.lowerBound
        }
        #expect(order.count == 4 && order == order.sorted())
        #expect(harness.vendor.requests.map(\.uri) == ["/v1/task/1", "/v1/task/2", "/v1/task/3", "/v1/task/4"])
        #expect(harness.vendor.connectionCount == 1)
    }

    @Test func oddTargetsAreRefused() async throws {
        let harness = try await ProxyHarness()
        let encoded = try await self.exchange(
            harness,
            "GET /scale/v1/task/%2e%2e/admin HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        let absolute = try await self.exchange(
            harness,
            "GET https://evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        let long = try await self.exchange(
            harness,
            "GET /scale/v1/task/" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        await harness.close()
        #expect(encoded.statuses == [400])
        #expect(absolute.statuses == [400])
        #expect(long.statuses == [414])
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func expectContinueIsHonouredAndRefusalsSkipIt() async throws {
        let harness = try await ProxyHarness()
        let accepted = try await self.exchange(
            harness,
            "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                + "Expect: 100-continue\r\n\r\n{}",
            wait: 1
        )
        let refused = try await self.exchange(
            harness,
            "POST /scale/v1/other HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                + "Expect: 100-continue\r\n\r\n",
            wait: 3
        )
        await harness.close()
        #expect(accepted.statuses == [100, 200])
        #expect(refused.statuses == [403])
        #expect(refused.text.lowercased().contains("connection: close"))
        #expect(refused.closedByServer)
        #expect(harness.vendor.requests.count == 1)
        #expect(harness.vendor.requests.first?.header("expect") == nil)
    }
}
