import NIOCore
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// The vendor leg writes requests as bytes itself (no NIO encoder or validator): what it writes, and what it refuses.
struct UpstreamRequestFramingTests {
    private func request(
        uri: String = "/v1/tasks?x=1",
        headers: [(String, String)],
        body: String = ""
    ) -> UpstreamRequest {
        UpstreamRequest(
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: HTTPHeaders(headers)),
            body: ByteBuffer(string: body)
        )
    }

    @Test func aRequestIsWrittenAsOneHTTP11Message() throws {
        let bytes = try #require(
            self.request(headers: [("Host", "vendor.example:8443"), ("Content-Length", "7")], body: "{\"a\":1}")
                .serialized(allocator: ByteBufferAllocator())
        )
        #expect(
            String(buffer: bytes)
                == "POST /v1/tasks?x=1 HTTP/1.1\r\nHost: vendor.example:8443\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        )
    }

    @Test(arguments: [
        ("/v1/tasks", "X-Note", "a\r\nX-Injected: 1"),
        ("/v1/tasks", "X-Note", "a\nb"),
        ("/v1/tasks", "X-Note", "a\u{0}b"),
        ("/v1/tasks", "X Note", "a"),
        ("/v1/tasks", "X-Note:", "a"),
        ("/v1/tasks", "", "a"),
        ("/v1/tasks HTTP/1.1\r\nX: y", "X-Note", "a"),
        ("/v1/ta sks", "X-Note", "a"),
        ("/v1/\u{7F}", "X-Note", "a"),
        ("", "X-Note", "a"),
    ])
    func anythingThatCouldSplitTheMessageIsRefused(uri: String, name: String, value: String) {
        #expect(self.request(uri: uri, headers: [(name, value)]).serialized(allocator: ByteBufferAllocator()) == nil)
    }
}
