import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// The lab connection's handler on an `EmbeddedChannel`: what is answered, in which order, and when the connection
/// closes, without sockets, TLS or sleeps.
@Suite struct ProxyHTTPHandlerEmbeddedTests {
    @Test func anUnroutedRequestIsAnswered404AndTheConnectionStaysOpen() throws {
        let proxy = try EmbeddedProxy()
        defer { proxy.finish() }
        try proxy.send("GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n")
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [404], "\(answer)")
        #expect(answer.contains("unknown_vendor") && !answer.contains("Connection: close"), "\(answer)")
        #expect(proxy.isOpen)
    }

    /// Requests pipelined in one read are answered one by one, in order; a refused one's body is skipped, not taken
    /// for the next request.
    @Test func pipelinedRequestsAreAnsweredInOrderAndARefusedBodyIsSkipped() throws {
        let proxy = try EmbeddedProxy()
        defer { proxy.finish() }
        try proxy.send(
            "POST /scale/v2/other HTTP/1.1\r\nHost: a\r\nContent-Length: 24\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n"
                + "GET /scale/v1/../x HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [403, 400, 404], "\(answer)")
        #expect(proxy.isOpen)
    }

    @Test func ambiguousFramingIsRefused400AndClosed() throws {
        let proxy = try EmbeddedProxy()
        defer { proxy.finish() }
        try proxy.send(
            "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n"
        )
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [400], "\(answer)")
        #expect(answer.contains("Connection: close"), "\(answer)")
        #expect(!proxy.isOpen)
    }

    @Test func aDeclaredBodyOverTheLimitIsRefused413WithClose() throws {
        let proxy = try EmbeddedProxy(maxBodyBytes: 16)
        defer { proxy.finish() }
        try proxy.send("POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n")
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [413], "\(answer)")
        #expect(answer.contains("body_too_large") && answer.contains("Connection: close"), "\(answer)")
    }

    /// A chunked body that grows past the limit is refused as it arrives, and nothing after it is answered.
    @Test func aChunkedBodyGrowingOverTheLimitIsRefused413() throws {
        let proxy = try EmbeddedProxy(maxBodyBytes: 16)
        defer { proxy.finish() }
        try proxy.send(
            "POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "10\r\n0123456789abcdef\r\n1\r\nz\r\n0\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n"
        )
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [413], "\(answer)")
    }

    @Test func anUnsupportedExpectationIsRefused417() throws {
        let proxy = try EmbeddedProxy()
        defer { proxy.finish() }
        try proxy.send("POST /scale/v1/task/x HTTP/1.1\r\nHost: a\r\nExpect: later\r\nContent-Length: 0\r\n\r\n")
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [417], "\(answer)")
        #expect(answer.contains("Connection: close"), "\(answer)")
    }

    @Test func anIdleConnectionClosesWhenShutdownBegins() throws {
        let proxy = try EmbeddedProxy()
        defer { proxy.finish() }
        proxy.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!proxy.isOpen)
        #expect(try proxy.answered().isEmpty)
    }

    @Test func aRequestHeadThatRunsOutIsAnswered408AndClosed() throws {
        let proxy = try EmbeddedProxy()
        defer { proxy.finish() }
        try proxy.send("GET /scale/v1/task/x HTTP/1.1\r\nHost: a\r\n")
        proxy.channel.pipeline.fireUserInboundEventTriggered(RequestTimeout(phase: .head))
        let answer = try proxy.answered()
        #expect(EmbeddedProxy.statuses(answer) == [408], "\(answer)")
        #expect(answer.contains("request_timeout") && answer.contains("Connection: close"), "\(answer)")
        #expect(!proxy.isOpen)
    }
}
