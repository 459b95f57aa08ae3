import AirlockTLS
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

/// Records what reaches the top of a pipeline: plaintext, user events, errors, and whether the channel went inactive.
final class Recorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var received = ByteBuffer()
    var events: [TLSUserEvent] = []
    var errors: [Error] = []
    var becameInactive = false

    var tlsErrors: [TLSError] { self.errors.compactMap { $0 as? TLSError } }
    var receivedText: String { String(buffer: self.received) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.received.writeBuffer(&buffer)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent { self.events.append(event) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.errors.append(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.becameInactive = true
        context.fireChannelInactive()
    }
}

/// A client and a server channel with TLS handlers, joined by pumping bytes between them in memory.
struct InMemoryPair {
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientHandler: TLSHandler
    let serverHandler: TLSHandler
    let clientRecorder = Recorder()
    let serverRecorder = Recorder()

    init(server serverContext: TLSServerContext, client clientContext: TLSClientContext, hostname: String) throws {
        self.clientHandler = clientContext.makeHandler(serverHostname: hostname)
        self.serverHandler = serverContext.makeHandler()
        self.client = EmbeddedChannel()
        self.server = EmbeddedChannel()
        try self.client.pipeline.syncOperations.addHandler(self.clientHandler)
        try self.client.pipeline.syncOperations.addHandler(self.clientRecorder)
        try self.server.pipeline.syncOperations.addHandler(self.serverHandler)
        try self.server.pipeline.syncOperations.addHandler(self.serverRecorder)
    }

    /// Makes both channels active; the client starts its handshake.
    func connect() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 443)
        _ = try self.server.connect(to: address).wait()
        _ = try self.client.connect(to: address).wait()
    }

    /// Moves bytes both ways until neither side has anything left to send. Returns the number of bytes moved.
    @discardableResult
    func interact() throws -> Int {
        var moved = 0
        for _ in 0..<1000 {
            var progressed = false
            if let bytes = try self.client.readOutbound(as: ByteBuffer.self) {
                progressed = true
                moved += bytes.readableBytes
                if self.server.isActive { try self.server.writeInbound(bytes) }
            }
            if let bytes = try self.server.readOutbound(as: ByteBuffer.self) {
                progressed = true
                moved += bytes.readableBytes
                if self.client.isActive { try self.client.writeInbound(bytes) }
            }
            if !progressed { return moved }
        }
        Issue.record("the two sides never went quiet")
        return moved
    }

    func finish() {
        _ = try? self.client.finish(acceptAlreadyClosed: true)
        _ = try? self.server.finish(acceptAlreadyClosed: true)
    }
}
