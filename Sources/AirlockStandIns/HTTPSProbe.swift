import AirlockTLS
import NIOCore
import NIOHTTP1
import NIOPosix

/// A one-request HTTPS client for the built-in demo: connects, verifies the server against a CA file, sends one
/// request, and returns the complete response. Not for production traffic.
public enum HTTPSProbe {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        public var bodyText: String { String(decoding: self.body, as: UTF8.self) }
    }

    public static func send(
        group: any EventLoopGroup,
        host: String,
        port: Int,
        caPath: String,
        method: String,
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        timeout: TimeAmount = .seconds(30)
    ) async throws -> Response {
        let tls = try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: .file(caPath)))
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Response.self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(tls.makeHandler(serverHostname: host))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ProbeHandler(promise: promise))
                }
            }
            .connect(host: host, port: port)
            .get()
        var requestHeaders = HTTPHeaders(headers)
        requestHeaders.replaceOrAdd(name: "Host", value: "\(host):\(port)")
        requestHeaders.replaceOrAdd(name: "Content-Length", value: String(body.count))
        requestHeaders.replaceOrAdd(name: "Connection", value: "close")
        let head = HTTPRequestHead(
            version: .http1_1,
            method: HTTPMethod(rawValue: method),
            uri: path,
            headers: requestHeaders
        )
        let bodyBuffer = channel.allocator.buffer(bytes: body)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(bodyBuffer)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = eventLoop.scheduleTask(in: timeout) {
            promise.fail(ChannelError.connectTimeout(timeout))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let response = try await promise.futureResult.get()
        try? await channel.close()
        return response
    }
}

private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<HTTPSProbe.Response>
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<HTTPSProbe.Response>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let buffer):
            self.body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head = self.head, !self.done else { return }
            self.done = true
            self.promise.succeed(
                HTTPSProbe.Response(
                    status: Int(head.status.code),
                    headers: head.headers.map { ($0.name, $0.value) },
                    body: self.body
                )
            )
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !self.done {
            self.done = true
            self.promise.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.done {
            self.done = true
            self.promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }
}
