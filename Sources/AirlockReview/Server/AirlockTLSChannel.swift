import AirlockTLS
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Puts Airlock's own TLS (system OpenSSL 3, the handler the proxy's listeners use) in front of a Hummingbird child
/// channel, so the console serves HTTPS without a second TLS stack (HummingbirdTLS would bring swift-nio-ssl's
/// BoringSSL).
struct AirlockTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let context: TLSServerContext
    let baseChannel: BaseChannel

    init(_ baseChannel: BaseChannel, context: TLSServerContext) {
        self.baseChannel = baseChannel
        self.context = context
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(self.context.makeHandler())
        }.flatMap {
            self.baseChannel.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.baseChannel.handle(value: value, logger: logger)
    }
}

extension AirlockTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { self.baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 behind Airlock's TLS.
    static func http1(tls context: TLSServerContext) -> HTTPServerBuilder {
        .init { responder in
            AirlockTLSChannel(HTTP1Channel(responder: responder), context: context)
        }
    }
}
