import AirlockTLS
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Serves a console on one address, over HTTPS when a certificate is given.
public enum ReviewServer {
    /// Runs until cancelled. `onListening` receives the bound port (useful with port 0).
    public static func run(
        console: ReviewConsole,
        host: String,
        port: Int,
        tls: TLSServerContext?,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let server: HTTPServerBuilder = tls.map { HTTPServerBuilder.http1(tls: $0) } ?? HTTPServerBuilder.http1()
        let application = Application(
            responder: ReviewResponder(console: console),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? port)
            },
            logger: logger
        )
        try await application.run()
    }
}
