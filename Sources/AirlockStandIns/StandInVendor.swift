import AirlockTLS
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A stand-in for a labeling vendor's API, for tests and the built-in demo: an HTTPS server that records exactly
/// what it received and echoes it back as JSON.
///
/// The echo is `{"received": {"method", "path", "headers": [[name, value], …], "body", "connection"}}` (`path`
/// includes the query as received). It can be told to answer late (`.delay`), to close without answering
/// (`.close`) or to redirect (`.redirect`). Counters let tests prove that nothing reached it: TCP connections accepted
/// and plaintext bytes received after TLS.
public final class StandInVendor: Sendable {
    /// How the stand-in answers the next requests.
    public enum Behavior: Sendable, Hashable {
        case echo
        case delay(TimeAmount)
        case close
        /// Echo with this status code.
        case status(Int)
        /// Answer a request for `path` (as received, query included) with `status` and this `Location`; echo
        /// anything else. For redirect tests.
        case redirect(path: String, status: Int, location: String)
    }

    /// One request as the stand-in saw it.
    public struct ReceivedRequest: Sendable {
        public var method: String
        public var uri: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// Which TCP connection (1-based, in accept order) carried it.
        public var connection: Int

        public func header(_ name: String) -> String? {
            self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        public var bodyText: String { String(decoding: self.body, as: UTF8.self) }
    }

    private struct State {
        var behavior: Behavior = .echo
        var requests: [ReceivedRequest] = []
        var connections = 0
        var plaintextBytes = 0
        var channel: (any Channel)?
        var apis: [any StandInAPI] = []
    }

    private let state = Mutex(State())

    private init() {}

    /// Starts listening on `host:port` (port 0: ephemeral) with this certificate and key.
    public static func start(
        group: any EventLoopGroup,
        certificatePath: String,
        keyPath: String,
        host: String = "127.0.0.1",
        port: Int = 0
    ) async throws -> StandInVendor {
        let vendor = StandInVendor()
        let tls = try TLSServerContext(
            configuration: TLSServerConfiguration(certificateChainPath: certificatePath, privateKeyPath: keyPath)
        )
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = vendor.state.withLock { state in
                        state.connections += 1
                        return state.connections
                    }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(tls.makeHandler())
                    try sync.addHandler(PlaintextCounter(vendor: vendor))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(StandInHandler(vendor: vendor, connection: connection))
                }
            }
            .bind(host: host, port: port)
            .get()
        vendor.state.withLock { $0.channel = channel }
        return vendor
    }

    public var port: Int {
        self.state.withLock { $0.channel?.localAddress?.port ?? 0 }
    }

    public var behavior: Behavior {
        get { self.state.withLock { $0.behavior } }
        set { self.state.withLock { $0.behavior = newValue } }
    }

    public var requests: [ReceivedRequest] { self.state.withLock { $0.requests } }

    /// Vendor APIs answered as the real vendor would (`ScaleAPIStandIn`, `LabelboxAPIStandIn`); a request that none
    /// of them claims is echoed. Empty by default.
    public var apis: [any StandInAPI] {
        get { self.state.withLock { $0.apis } }
        set { self.state.withLock { $0.apis = newValue } }
    }

    /// TCP connections accepted so far (including ones whose TLS handshake failed).
    public var connectionCount: Int { self.state.withLock { $0.connections } }
    /// Application bytes received after TLS decryption, over all connections.
    public var plaintextBytesReceived: Int { self.state.withLock { $0.plaintextBytes } }

    /// Forgets what was received and goes back to echoing.
    public func reset() {
        self.state.withLock { state in
            state.requests = []
            state.connections = 0
            state.plaintextBytes = 0
            state.behavior = .echo
        }
    }

    public func stop() async {
        let channel = self.state.withLock { $0.channel }
        try? await channel?.close()
    }

    fileprivate func countPlaintext(_ bytes: Int) {
        self.state.withLock { $0.plaintextBytes += bytes }
    }

    fileprivate func record(_ request: ReceivedRequest) -> Behavior {
        self.state.withLock { state in
            state.requests.append(request)
            return state.behavior
        }
    }

    /// The JSON echo of a request.
    static func echo(_ request: ReceivedRequest) -> [UInt8] {
        let headers = request.headers.map { [$0.name, $0.value] }
        let object: [String: Any] = [
            "received": [
                "method": request.method,
                "path": request.uri,
                "headers": headers,
                "body": String(decoding: request.body, as: UTF8.self),
                "connection": request.connection,
            ] as [String: Any]
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Array(data)
    }
}

/// Counts decrypted bytes arriving from the peer.
private final class PlaintextCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let vendor: StandInVendor

    init(vendor: StandInVendor) {
        self.vendor = vendor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.vendor.countPlaintext(self.unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }
}

private final class StandInHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let vendor: StandInVendor
    private let connection: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(vendor: StandInVendor, connection: Int) {
        self.vendor = vendor
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
        case .body(let buffer):
            self.body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let request = StandInVendor.ReceivedRequest(
                method: head.method.rawValue,
                uri: head.uri,
                headers: head.headers.map { ($0.name, $0.value) },
                body: self.body,
                connection: self.connection
            )
            switch self.vendor.record(request) {
            case .echo:
                self.answer(request, status: .ok, keepAlive: head.isKeepAlive, context: context)
            case .status(let code):
                self.answer(
                    request,
                    status: HTTPResponseStatus(statusCode: code),
                    keepAlive: head.isKeepAlive,
                    context: context
                )
            case .redirect(let path, let code, let location):
                let redirects = request.uri == path
                self.answer(
                    request,
                    status: redirects ? HTTPResponseStatus(statusCode: code) : .ok,
                    keepAlive: head.isKeepAlive,
                    context: context,
                    location: redirects ? location : nil
                )
            case .delay(let delay):
                let keepAlive = head.isKeepAlive
                context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                    self.answer(request, status: .ok, keepAlive: keepAlive, context: context)
                }
            case .close:
                context.close(promise: nil)
            }
        }
    }

    private func answer(
        _ request: StandInVendor.ReceivedRequest,
        status: HTTPResponseStatus,
        keepAlive: Bool,
        context: ChannelHandlerContext,
        location: String? = nil
    ) {
        guard context.channel.isActive else { return }
        let emulated = status == .ok ? self.vendor.apis.lazy.compactMap { $0.respond(to: request) }.first : nil
        let bytes = emulated?.body ?? StandInVendor.echo(request)
        let status = emulated.map { HTTPResponseStatus(statusCode: $0.status) } ?? status
        var headers = HTTPHeaders([
            ("Content-Type", emulated?.contentType ?? "application/json"), ("Content-Length", String(bytes.count)),
            ("X-Stand-In-Vendor", "1"),
        ])
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        if let location { headers.add(name: "Location", value: location) }
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        if request.method != "HEAD" {  // a HEAD answer carries the length but no body
            context.write(
                self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))),
                promise: nil
            )
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
