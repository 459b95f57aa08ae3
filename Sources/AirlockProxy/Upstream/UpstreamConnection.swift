import AirlockTLS
import NIOCore
import NIOHTTP1
import NIOTLS

/// The last handler on a connection to a vendor: runs one request/response exchange at a time.
///
/// Becomes ready once the TLS handshake completed (certificate and pins verified), so a connection whose vendor fails
/// verification never carries a request byte. All methods run on the channel's event loop.
///
/// The request leaves as one buffer serialized here (`UpstreamRequest.serialized`), not through NIO's request encoder
/// and header validator: two fewer pipeline hops and three fewer writes per request. The response decoder learns each
/// request's method directly (`UpstreamResponseDecoder`), so a response to HEAD is still read without a body.
///
/// A body above ``inlineBodyLimit`` is not copied behind the head: it is written as it is, a slice of
/// ``bodySliceBytes`` at a time, the next once an earlier one has reached the socket (at most ``slicesAhead`` in
/// flight). The TLS layer encrypts what it is given in one go, so pacing here is what keeps a big body from becoming a
/// second copy of itself in ciphertext (and a third in OpenSSL's output buffer) while the vendor reads it.
final class UpstreamConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = ByteBuffer

    private enum State {
        case connecting
        case idle
        case waitingForHead(Exchange)
        case receivingBody(Exchange, HTTPResponseHead, ByteBuffer)
        case closed
    }

    /// One request in flight; `completion` is called exactly once.
    private struct Exchange {
        var maxResponseBytes: Int
        var reused: Bool
        var completion: (Result<UpstreamResponse, UpstreamError>) -> Void
    }

    private var state: State = .connecting
    private var context: ChannelHandlerContext?
    private var lastError: UpstreamError?
    private var exchanges = 0
    /// Called once: with success when the connection can carry requests, or with why it cannot.
    var onReady: ((Result<Void, UpstreamError>) -> Void)?
    /// Called once when the channel closes, whatever the state.
    var onClose: (() -> Void)?
    /// True after a response that allows the connection to carry another request.
    private(set) var isReusable = false

    var channel: Channel? { self.context?.channel }
    /// The decoder in front of this handler (wrapped in `UpstreamResponseDecoder`), told the method of every request.
    let responseDecoder = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)
    /// Whether the TCP connection was ever established; if not, `onClose` never runs.
    private(set) var becameActive = false
    /// The part of a paced request body not yet handed to the channel, and how many slices are in flight.
    private var unsentBody: ByteBuffer?
    private var slicesInFlight = 0

    /// Bodies up to this size leave in the same buffer as the head.
    static let inlineBodyLimit = 64 * 1024
    static let bodySliceBytes = 512 * 1024
    static let slicesAhead = 2

    func channelActive(context: ChannelHandlerContext) {
        self.becameActive = true
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, case .connecting = self.state {
            self.state = .idle
            self.isReusable = true
            let ready = self.onReady
            self.onReady = nil
            ready?(.success(()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Sends `request` and calls `completion` with the full response, or why there is none.
    /// Precondition: the connection is ready and idle.
    func execute(
        _ request: UpstreamRequest,
        maxResponseBytes: Int,
        completion: @escaping (Result<UpstreamResponse, UpstreamError>) -> Void
    ) {
        guard case .idle = self.state, let context = self.context else {
            completion(
                .failure(.closedBeforeResponse(reusedConnection: self.exchanges > 0, receivedResponseBytes: false))
            )
            return
        }
        guard
            let bytes = request.serialized(allocator: context.channel.allocator, inlineBody: Self.inlineBodyLimit)
        else {
            completion(.failure(.unframeableRequest))  // nothing was written; the connection stays idle
            return
        }
        self.isReusable = false
        self.state = .waitingForHead(
            Exchange(maxResponseBytes: maxResponseBytes, reused: self.exchanges > 0, completion: completion)
        )
        self.exchanges += 1
        self.responseDecoder.write(data: .head(request.head))
        guard request.body.readableBytes > Self.inlineBodyLimit else {
            context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
            return
        }
        context.write(self.wrapOutboundOut(bytes), promise: nil)  // flushed with the first slice
        self.unsentBody = request.body
        self.writeBodySlices(context: context)
    }

    /// Hands the channel the next slices of the paced body, up to ``slicesAhead`` in flight; each one that reaches
    /// the socket lets the next go. A failed write ends the body there (the exchange fails as the connection closes).
    private func writeBodySlices(context: ChannelHandlerContext) {
        while self.slicesInFlight < Self.slicesAhead, var rest = self.unsentBody {
            let slice = rest.readSlice(length: min(Self.bodySliceBytes, rest.readableBytes))!
            self.unsentBody = rest.readableBytes > 0 ? rest : nil
            self.slicesInFlight += 1
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { result in
                self.slicesInFlight -= 1
                switch result {
                case .success:
                    if let context = self.context { self.writeBodySlices(context: context) }
                case .failure:
                    self.unsentBody = nil
                }
            }
            context.writeAndFlush(self.wrapOutboundOut(slice), promise: written)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            guard case .waitingForHead(let exchange) = self.state else {
                // A response nobody asked for: the connection cannot be trusted any more.
                self.lastError = .badResponse
                context.close(promise: nil)
                return
            }
            if head.status.code >= 100 && head.status.code < 200 {
                return  // 100 Continue and other interim responses precede the real one.
            }
            var body = context.channel.allocator.buffer(capacity: 0)
            if let length = head.headers.first(name: "content-length").flatMap(Int.init) {
                if length > exchange.maxResponseBytes {
                    self.finish(.failure(.responseTooLarge(limit: exchange.maxResponseBytes)), context: context)
                    context.close(promise: nil)
                    return
                }
                body.reserveCapacity(length)
            }
            self.state = .receivingBody(exchange, head, body)
        case .body(var part):
            guard case .receivingBody(let exchange, let head, var body) = self.state else {
                if case .waitingForHead = self.state { return }  // body of an interim response: none expected
                return
            }
            self.state = .closed  // avoid a copy-on-write of `body` while we append
            if body.readableBytes + part.readableBytes > exchange.maxResponseBytes {
                self.state = .receivingBody(exchange, head, body)
                self.finish(.failure(.responseTooLarge(limit: exchange.maxResponseBytes)), context: context)
                context.close(promise: nil)
                return
            }
            if body.readableBytes == 0 && body.capacity == 0 {
                body = part
            } else {
                body.writeBuffer(&part)
            }
            self.state = .receivingBody(exchange, head, body)
        case .end:
            guard case .receivingBody(_, let head, let body) = self.state else {
                if case .waitingForHead = self.state { return }
                return
            }
            // A vendor that answered before it read the whole body: the rest is never sent on this connection, which
            // cannot carry another request.
            let bodySent = self.unsentBody == nil && self.slicesInFlight == 0
            let reusable = head.isKeepAlive && context.channel.isActive && bodySent
            self.finish(.success(UpstreamResponse(head: head, body: body)), context: context, reusable: reusable)
            if !reusable {
                context.close(promise: nil)
            }
        }
    }

    private func finish(
        _ result: Result<UpstreamResponse, UpstreamError>,
        context: ChannelHandlerContext,
        reusable: Bool = false
    ) {
        let exchange: Exchange
        switch self.state {
        case .waitingForHead(let current), .receivingBody(let current, _, _):
            exchange = current
        case .connecting, .idle, .closed:
            return
        }
        self.state = reusable ? .idle : .closed
        self.isReusable = reusable
        if !reusable { self.unsentBody = nil }
        exchange.completion(result)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tls = error as? TLSError {
            // An unclean shutdown after a complete exchange is just a vendor closing an idle connection.
            if tls.code != .uncleanShutdown || self.lastError == nil {
                self.lastError = .tls(tls)
            }
        } else if error is HTTPParserError {
            self.lastError = .badResponse
        } else if self.lastError == nil {
            self.lastError = .connectFailed(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = self.state
        self.state = .closed
        self.isReusable = false
        switch previous {
        case .connecting:
            let ready = self.onReady
            self.onReady = nil
            ready?(
                .failure(self.lastError ?? .closedBeforeResponse(reusedConnection: false, receivedResponseBytes: false))
            )
        case .waitingForHead(let exchange):
            exchange.completion(.failure(self.closeError(reused: exchange.reused, receivedBytes: false)))
        case .receivingBody(let exchange, _, _):
            exchange.completion(.failure(self.closeError(reused: exchange.reused, receivedBytes: true)))
        case .idle, .closed:
            break
        }
        let onClose = self.onClose
        self.onClose = nil
        onClose?()
        context.fireChannelInactive()
    }

    private func closeError(reused: Bool, receivedBytes: Bool) -> UpstreamError {
        switch self.lastError {
        case .some(.tls(let error)) where error.code != .uncleanShutdown:
            return .tls(error)
        case .some(.badResponse):
            return .badResponse
        case .some(.responseTooLarge(let limit)):
            return .responseTooLarge(limit: limit)
        default:
            return .closedBeforeResponse(reusedConnection: reused, receivedResponseBytes: receivedBytes)
        }
    }

    /// Closes the connection; an exchange in flight fails with `error`.
    func abort(_ error: UpstreamError) {
        self.lastError = error
        switch self.state {
        case .waitingForHead(let exchange), .receivingBody(let exchange, _, _):
            self.state = .closed
            exchange.completion(.failure(error))
        case .connecting:
            self.state = .closed
            let ready = self.onReady
            self.onReady = nil
            ready?(.failure(error))
        case .idle, .closed:
            self.state = .closed
        }
        self.isReusable = false
        self.context?.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamConnectionHandler: Sendable {}

/// NIO's response decoder without its write observation: `UpstreamConnectionHandler` writes requests as bytes and
/// reports each request's method to the shared `HTTPResponseDecoder` itself.
struct UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    let http: HTTPResponseDecoder

    func decoderAdded(context: ChannelHandlerContext) {
        self.http.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        self.http.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try self.http.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.http.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}

extension UpstreamRequest {
    /// The request line, headers and body as one buffer, or nil when the target or a header could split the message
    /// (CR, LF, NUL; a space or control byte in the target; a name that is not a token). Every header here was parsed
    /// from the lab's request or written by Airlock, so nil means a bug upstream of this point: the request is
    /// refused rather than sent. A body of more than `inlineBody` bytes is left out, for the caller to write after
    /// the head as it is instead of copying it here.
    func serialized(allocator: ByteBufferAllocator, inlineBody: Int = .max) -> ByteBuffer? {
        guard Self.isSafeTarget(self.head.uri) else { return nil }
        let inline = self.body.readableBytes <= inlineBody
        var size = 32 + self.head.uri.utf8.count + (inline ? self.body.readableBytes : 0)
        for (name, value) in self.head.headers {
            guard Self.isToken(name), Self.isSafeValue(value) else { return nil }
            size += name.utf8.count + value.utf8.count + 4
        }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeString(self.head.method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.head.uri)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        for (name, value) in self.head.headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        if inline { buffer.writeImmutableBuffer(self.body) }
        return buffer
    }

    private static func isSafeTarget(_ target: String) -> Bool {
        !target.isEmpty && !target.utf8.contains { $0 <= 0x20 || $0 == 0x7F }
    }

    private static func isSafeValue(_ value: String) -> Bool {
        !value.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }
    }

    /// RFC 9110 token: visible ASCII except delimiters.
    private static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
