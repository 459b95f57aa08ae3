import Foundation
import NIOCore
import Testing

/// Clients that take their time or come in numbers: the head, body and handshake deadlines, and the connection
/// caps. Real TLS sockets on 127.0.0.1; deadlines are short in these configurations, and the only time bound asserted
/// is a generous one (``bound``) on when the server ended the connection.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SlowClientTests {
    static let shortDeadlines = [
        "tls_handshake_timeout_seconds: 0.5",
        "request_head_timeout_seconds: 0.5",
        "request_body_grace_seconds: 0.5",
        "request_body_min_bytes_per_second: 1000",
    ]

    /// How long a cut may take by the test's own clock: generous, because the client's sends and checks run on the
    /// test process's shared pool, which other suites running in parallel can hold for seconds. What the tests
    /// assert is the outcome: the server cut the client before it was done (its bytes last over 10 s), with 408.
    static let bound: TimeInterval = 30

    static func harness(limits: [String] = Self.shortDeadlines) async throws -> ProxyHarness {
        var options = ProxyHarness.Options()
        options.limits = limits
        return try await ProxyHarness(options)
    }

    static func connect(_ harness: ProxyHarness) async throws -> RawTLSClient.Connection {
        try await RawTLSClient.Connection.open(port: harness.port, caPath: harness.certificates.caCertificatePath)
    }

    /// One byte of a header line every 100 ms: the head never completes, and the idle timeout (60 s) never fires
    /// because bytes keep coming. Cut at the head deadline with 408.
    @Test func aHeadSentByteByByteIsCutAtTheHeadDeadline() async throws {
        let harness = try await Self.harness()
        let client = try await Self.connect(harness)
        let head = "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nX-Slow: " + String(repeating: "s", count: 100)
        let started = Date()
        let sent = try await client.dribble(head.map(String.init), every: .milliseconds(100))
        let closed = await client.waitForClose(within: .seconds(20))
        let elapsed = Date().timeIntervalSince(started)
        let timeouts = metricSample("airlock_request_timeouts_total{phase=\"head\"}", adminPort: harness.adminPort)
        await client.close()
        await harness.close()
        #expect(closed && sent < head.count, "the server kept a dribbling client (\(sent) bytes sent)")
        #expect(elapsed < Self.bound, "cut after \(elapsed) s; the head deadline is 0.5 s")
        #expect(client.statuses == [408], "\(client.text)")
        #expect(
            errorCode(String(client.text.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")) == "request_timeout"
        )
        #expect(timeouts == 1)
        #expect(harness.vendor.connectionCount == 0)
    }

    /// A complete head, then a body at one byte per 100 ms (10 B/s against a minimum of 1000 B/s after a 0.5 s
    /// grace): 408, and the vendor receives nothing, not even the part of the body that did arrive.
    @Test func aBodySentByteByByteIsCutAndNothingIsForwarded() async throws {
        let harness = try await Self.harness()
        let client = try await Self.connect(harness)
        let body = #"{"task": "\#(String(repeating: "x", count: 200))"}"#
        await client.send(
            "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n"
        )
        let started = Date()
        let sent = try await client.dribble(body.map(String.init), every: .milliseconds(100))
        let closed = await client.waitForClose(within: .seconds(20))
        let elapsed = Date().timeIntervalSince(started)
        let timeouts = metricSample("airlock_request_timeouts_total{phase=\"body\"}", adminPort: harness.adminPort)
        await client.close()
        await harness.close()
        #expect(closed && sent < body.count, "the server kept a dribbling body (\(sent) bytes sent)")
        #expect(elapsed < Self.bound, "cut after \(elapsed) s")
        #expect(client.statuses == [408], "\(client.text)")
        #expect(client.text.contains("\"code\": \"request_timeout\""))
        #expect(timeouts == 1)
        #expect(harness.vendor.connectionCount == 0 && harness.vendor.plaintextBytesReceived == 0)
    }

    /// The head deadline counts from a request's first byte, not from the previous answer: a keep-alive connection
    /// may sit idle between requests for longer than the head deadline (the idle timeout bounds that).
    @Test func anIdleKeepAliveConnectionIsNotCutByTheHeadDeadline() async throws {
        let harness = try await Self.harness()
        let client = try await Self.connect(harness)
        let request = "GET /scale/v1/task/x HTTP/1.1\r\nHost: a\r\n\r\n"
        await client.send(request)
        let first = await client.waitForResponses(1)
        try await Task.sleep(nanoseconds: 1_500_000_000)  // three head deadlines without a byte
        await client.send(request)
        let both = await client.waitForResponses(2)
        let open = client.isOpen
        await client.close()
        await harness.close()
        #expect(first == [200] && both == [200, 200], "\(client.text)")
        #expect(open)
        #expect(harness.vendor.requests.count == 2)
    }

    /// A body that keeps up the minimum rate is not cut, however long it takes in all.
    @Test func aBodyAboveTheMinimumRateGoesThrough() async throws {
        let harness = try await Self.harness(limits: [
            "request_body_grace_seconds: 1", "request_body_min_bytes_per_second: 1000",
        ])
        let client = try await Self.connect(harness)
        let pieces = (0..<6).map { _ in String(repeating: "y", count: 2000) }
        await client.send(
            "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: \(pieces.count * 2000)\r\n\r\n"
        )
        // 2000 bytes every 300 ms: 6,600 B/s, over 1.5 s.
        try await client.dribble(pieces, every: .milliseconds(300))
        let statuses = await client.waitForResponses(1)
        await client.close()
        await harness.close()
        #expect(statuses == [200], "\(client.text)")
        #expect(harness.vendor.requests.first?.body.count == 12_000)
    }

    /// A TCP connection that never starts TLS is closed at the handshake deadline.
    @Test func aClientThatNeverHandshakesIsCut() async throws {
        let harness = try await Self.harness()
        let client = try await RawTLSClient.Connection.open(port: harness.port, caPath: nil)
        await client.send("\u{16}\u{03}")  // the first bytes of a TLS record, and nothing more
        let closed = await client.waitForClose(within: .seconds(20))
        let timeouts = metricSample(
            "airlock_request_timeouts_total{phase=\"tls_handshake\"}",
            adminPort: harness.adminPort
        )
        await client.close()
        await harness.close()
        #expect(closed)
        #expect(timeouts == 1)
    }

    /// `max_connections_per_peer: 3`: the fourth connection from 127.0.0.1 is closed before its handshake and gets
    /// no answer; once one of the three closes, a new one is served.
    @Test func theConnectionOverThePerPeerCapIsRefused() async throws {
        let harness = try await Self.harness(limits: ["max_connections_per_peer: 3"])
        let request = "GET /scale/v1/task/x HTTP/1.1\r\nHost: a\r\n\r\n"
        let held = try await Self.servedConnections(3, harness, request)
        let extra = try await Self.connect(harness)
        await extra.send(request)
        let extraClosed = await extra.waitForClose(within: .seconds(20))
        let refused = metricSample(
            "airlock_connections_refused_total{reason=\"per_peer\"}",
            adminPort: harness.adminPort
        )
        let open = metricSample("airlock_connections_open", adminPort: harness.adminPort)

        await held[0].close()
        var served: [Int] = []
        for _ in 0..<50 where served != [200] {
            let again = try await Self.connect(harness)
            await again.send(request)
            served = await again.waitForResponses(1, within: .seconds(2))
            await again.close()
            if served != [200] { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        for connection in held { await connection.close() }
        await extra.close()
        await harness.close()
        #expect(extraClosed && extra.statuses.isEmpty, "\(extra.text)")
        #expect(refused == 1)
        #expect(open == 3)
        #expect(served == [200])
        #expect(harness.vendor.requests.count == 4)
    }

    /// `max_connections: 2` counts every peer: the third connection is refused with reason `global`.
    @Test func theConnectionOverTheGlobalCapIsRefused() async throws {
        let harness = try await Self.harness(limits: ["max_connections: 2"])
        let request = "GET /scale/v1/task/x HTTP/1.1\r\nHost: a\r\n\r\n"
        let held = try await Self.servedConnections(2, harness, request)
        let extra = try await Self.connect(harness)
        await extra.send(request)
        let extraClosed = await extra.waitForClose(within: .seconds(20))
        let refused = metricSample("airlock_connections_refused_total{reason=\"global\"}", adminPort: harness.adminPort)
        for connection in held { await connection.close() }
        await extra.close()
        await harness.close()
        #expect(extraClosed && extra.statuses.isEmpty, "\(extra.text)")
        #expect(refused == 1)
    }

    /// `count` connections, each answered 200 for `request` and kept open.
    static func servedConnections(
        _ count: Int,
        _ harness: ProxyHarness,
        _ request: String
    ) async throws -> [RawTLSClient.Connection] {
        var held: [RawTLSClient.Connection] = []
        for _ in 0..<count {
            let connection = try await Self.connect(harness)
            await connection.send(request)
            #expect(await connection.waitForResponses(1) == [200])
            held.append(connection)
        }
        return held
    }

}
