import NIOCore
import NIOHTTP1
import NIOPosix

extension AirlockProxyServer {
    /// The forward listener: connections under the same caps and shutdown as the lab's, each starting with the
    /// proxy's own TLS (with `forward.tls`), a request decoder and ``ForwardConnectHandler``.
    func bindForward(_ forward: ForwardRuntime) async throws -> any Channel {
        let address = forward.settings.address
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let loop = try self.accept(channel, core: forward.core)
                    let sync = channel.pipeline.syncOperations
                    if let tls = forward.proxyTLS {
                        try sync.addHandler(tls.makeHandler())
                    }
                    // After a CONNECT the decoder parses nothing more: what follows is handed on when it is removed.
                    try sync.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                        name: ForwardRuntime.connectDecoderName
                    )
                    try sync.addHandler(ForwardConnectHandler(forward: forward, loop: loop))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }
}
