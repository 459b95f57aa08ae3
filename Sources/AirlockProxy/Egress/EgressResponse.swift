import NIOCore
import NIOHTTP1

/// A vendor's answer, fully buffered, before it is returned to the lab.
public struct EgressResponse: Sendable {
    public var status: HTTPResponseStatus
    /// Already cleaned of hop-by-hop headers; `Content-Length` is recomputed after `transformResponse`.
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
