import NIOCore
import NIOHTTP1

/// Writes a whole response (head and body) into one buffer, so each answer is one write and one TLS record.
enum ResponseSerializer {
    /// `HTTP/1.1 <status>`, the headers, a blank line and the body, in one buffer. Headers whose name or value
    /// could break the framing (CR, LF, NUL; an inspector could produce them) are dropped. Airlock's own headers
    /// replace any of the same name in `headers` (written directly, so the header list is never copied):
    /// `Content-Length` when there is a body, `Connection: close`, `Airlock-Request-Id`.
    static func serialize(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer?,
        connectionClose: Bool = false,
        requestID: String? = nil,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var size = 96 + (body?.readableBytes ?? 0) + (requestID?.utf8.count ?? 0)
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeStaticString("HTTP/1.1 ")
        let code = Int(status.code)
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 100 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in headers where Self.isSafeHeader(name) && Self.isSafeHeader(value) {
            if Self.isReplaced(name, hasBody: body != nil, connectionClose: connectionClose, requestID: requestID) {
                continue
            }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if let body {
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(body.readableBytes))
            buffer.writeStaticString("\r\n")
        }
        if connectionClose {
            buffer.writeStaticString("Connection: close\r\n")
        }
        if let requestID, Self.isSafeHeader(requestID) {
            buffer.writeStaticString("Airlock-Request-Id: ")
            buffer.writeString(requestID)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        if let body {
            buffer.writeImmutableBuffer(body)
        }
        return buffer
    }

    /// Whether a header of the response is superseded by one `serialize` writes itself.
    private static func isReplaced(_ name: String, hasBody: Bool, connectionClose: Bool, requestID: String?) -> Bool {
        switch name.utf8.count {
        case 14: return hasBody && name.lowercased() == "content-length"
        case 10: return connectionClose && name.lowercased() == "connection"
        case 18: return requestID != nil && name.lowercased() == "airlock-request-id"
        default: return false
        }
    }

    private static func isSafeHeader(_ text: String) -> Bool {
        !text.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }
    }
}
