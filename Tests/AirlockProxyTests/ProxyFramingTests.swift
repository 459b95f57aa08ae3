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

    /// Headers that decide how the body is framed, decoded or routed may not be doubled or conflicting: whichever
    /// copy a vendor reads, it must be the one Airlock inspected by. Each is refused 400 and the connection closed.
    @Test(
        arguments: [
            ("Content-Type: application/json\r\nContent-Type: text/plain", "Content-Type"),
            ("Content-Type: application/json\r\ncontent-type: application/json", "Content-Type"),
            ("Content-Encoding: identity\r\nContent-Encoding: gzip", "Content-Encoding"),
            ("Host: a\r\nHost: b", "Host"),
            ("Host: a, b", "Host"),
            ("Content-Length: 2\r\nContent-Length: 2", "Content-Length"),
            ("Transfer-Encoding: gzip, chunked", "Transfer-Encoding"),
        ]
    )
    func doubledOrConflictingDecisiveHeadersAreRefused(headers: String, name: String) async throws {
        let harness = try await ProxyHarness()
        let framing =
            headers.contains("Transfer-Encoding")
            ? "" : (headers.contains("Content-Length") ? "" : "Content-Length: 2\r\n")
        let host = headers.contains("Host") ? "" : "Host: a\r\n"
        let body = headers.contains("Transfer-Encoding") ? "2\r\n{}\r\n0\r\n\r\n" : "{}"
        let result = try await self.exchange(
            harness,
            "POST /scale/v1/task/x HTTP/1.1\r\n\(host)\(framing)\(headers)\r\n\r\n\(body)"
                + "POST /scale/v1/task/y HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
        )
        await harness.close()
        #expect(result.statuses == [400], "\(result.text)")
        #expect(result.text.contains("\"code\": \"bad_request\""))
        #expect(result.text.contains(name), "\(result.text)")
        #expect(result.closedByServer)
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func aFragmentOrADotSegmentBehindAParameterIsRefused() async throws {
        let harness = try await ProxyHarness()
        let fragment = try await self.exchange(
            harness,
            "GET /scale/v1/task/x#frag HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        let queryFragment = try await self.exchange(
            harness,
            "GET /scale/v1/task/x?a=1#frag HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        // Tomcat and Jetty drop `;...` before resolving `..`: `/v1/task/..;/admin` would be `/v1/admin` there.
        let dots = try await self.exchange(
            harness,
            "GET /scale/v1/task/..;x/admin HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        await harness.close()
        #expect(fragment.statuses == [400], "\(fragment.text)")
        #expect(queryFragment.statuses == [400], "\(queryFragment.text)")
        #expect(dots.statuses == [400], "\(dots.text)")
        #expect(harness.vendor.connectionCount == 0)
    }

    @Test func pathParametersAreKeptByteForByte() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        let harness = try await ProxyHarness(options)
        let plain = try await self.exchange(
            harness,
            "GET /scale/v1/task/x;rev=2,3;a=b HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        let redacted = try await self.exchange(
            harness,
            "GET /scale/v1/task/Nightingale;rev=Nightingale,2 HTTP/1.1\r\nHost: a\r\n\r\n",
            wait: 1
        )
        await harness.close()
        #expect(plain.statuses == [200] && redacted.statuses == [200])
        let uris = harness.vendor.requests.map(\.uri)
        try #require(uris.count == 2)
        #expect(uris[0] == "/v1/task/x;rev=2,3;a=b")
        #expect(uris[1].hasPrefix("/v1/task/CODENAME_") && uris[1].contains(";rev=CODENAME_"), "\(uris[1])")
        #expect(uris[1].hasSuffix(",2") && !uris[1].contains("%"), "\(uris[1])")
    }

    /// A malformed request pipelined behind one already forwarded: that one is still answered, then the connection
    /// closes; nothing of the malformed one leaves.
    @Test func aParseErrorBehindAForwardedRequestStillDeliversItsResponse() async throws {
        let harness = try await ProxyHarness()
        harness.vendor.behavior = .delay(.milliseconds(500))
        let result = try await self.exchange(
            harness,
            "POST /scale/v1/task/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
                + "BROKEN \u{01} GARBAGE\r\n\r\n",
            wait: 4
        )
        await harness.close()
        #expect(result.statuses == [200], "\(result.text)")
        #expect(result.text.lowercased().contains("connection: close"))
        #expect(result.closedByServer)
        #expect(harness.vendor.requests.map(\.uri) == ["/v1/task/1"])
    }

    @Test func aPipelineOverflowBehindAForwardedRequestStillDeliversItsResponse() async throws {
        var options = ProxyHarness.Options()
        options.maxBodyBytes = 1024
        let harness = try await ProxyHarness(options)
        harness.vendor.behavior = .delay(.milliseconds(500))
        let flood = String(repeating: "x", count: 1_200_000)
        let result = try await self.exchange(
            harness,
            "POST /scale/v1/task/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
                + "POST /scale/v1/task/2 HTTP/1.1\r\nHost: a\r\nContent-Length: \(flood.utf8.count)\r\n\r\n\(flood)",
            wait: 4
        )
        await harness.close()
        #expect(result.statuses == [200], "\(result.text.prefix(500))")
        #expect(result.closedByServer)
        #expect(harness.vendor.requests.map(\.uri) == ["/v1/task/1"])
    }
}
