import AirlockTLS
import NIOCore
import NIOPosix
import Synchronization

/// Sends raw bytes over TLS and collects everything the server answers, for framing cases curl will not produce.
enum RawTLSClient {
    struct Exchange {
        var text: String
        /// Whether the server closed the connection within the wait.
        var closedByServer: Bool

        /// Status codes of the HTTP responses in `text`, in order.
        var statuses: [Int] {
            self.text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
        }
    }

    static func send(
        _ request: String,
        port: Int,
        caPath: String,
        wait: TimeAmount = .seconds(3)
    ) async throws
        -> Exchange
    {
        let group = MultiThreadedEventLoopGroup.singleton
        let tls = try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: .file(caPath)))
        let collector = Collected()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(tls.makeHandler(serverHostname: "127.0.0.1"))
                    try channel.pipeline.syncOperations.addHandler(CollectHandler(collected: collector))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        // The server may already have closed (that is what some tests wait for): a failed write is not an error.
        try? await channel.writeAndFlush(channel.allocator.buffer(string: request))
        let deadline = NIODeadline.now() + wait
        while NIODeadline.now() < deadline && channel.isActive {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let closed = !channel.isActive
        try? await channel.close()
        return Exchange(text: collector.text, closedByServer: closed)
    }

    final class Collected: Sendable {
        private let bytes = Mutex<[UInt8]>([])
        func append(_ buffer: ByteBuffer) { self.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) } }
        var text: String { String(decoding: self.bytes.withLock { $0 }, as: UTF8.self) }
    }

    final class CollectHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let collected: Collected
        init(collected: Collected) { self.collected = collected }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.collected.append(self.unwrapInboundIn(data))
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
