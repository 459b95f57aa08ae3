import AirlockTLS
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Sends raw bytes over TLS and collects everything the server answers, for framing cases curl will not produce,
/// and for clients that take their time (``Connection/dribble(_:every:)``).
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
        let connection = try await Connection.open(port: port, caPath: caPath)
        // The server may already have closed (that is what some tests wait for): a failed write is not an error.
        await connection.send(request)
        let closed = await connection.waitForClose(within: wait)
        await connection.close()
        return Exchange(text: connection.text, closedByServer: closed)
    }

    /// One open connection to the server: TLS (the default) or plain TCP (`caPath` nil), for a client that never
    /// even starts the handshake.
    final class Connection: Sendable {
        let channel: any Channel
        private let collected: Collected

        private init(channel: any Channel, collected: Collected) {
            self.channel = channel
            self.collected = collected
        }

        static func open(port: Int, caPath: String?) async throws -> Connection {
            let group = MultiThreadedEventLoopGroup.singleton
            let tls = try caPath.map {
                try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: .file($0)))
            }
            let collector = Collected()
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(tls.makeHandler(serverHostname: "127.0.0.1"))
                        }
                        try channel.pipeline.syncOperations.addHandler(CollectHandler(collected: collector))
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .get()
            return Connection(channel: channel, collected: collector)
        }

        /// Everything the server answered so far.
        var text: String { self.collected.text }

        var statuses: [Int] { Exchange(text: self.text, closedByServer: false).statuses }

        var isOpen: Bool { self.channel.isActive }

        /// Writes `bytes`; a connection the server closed is not an error here.
        func send(_ bytes: String) async {
            try? await self.channel.writeAndFlush(self.channel.allocator.buffer(string: bytes))
        }

        /// Sends `pieces` one after the other, `interval` apart, until they are all sent or the server closes.
        /// Returns how many were sent.
        @discardableResult
        func dribble(_ pieces: [String], every interval: TimeAmount) async throws -> Int {
            var sent = 0
            for piece in pieces {
                guard self.isOpen else { break }
                await self.send(piece)
                sent += 1
                try await Task.sleep(nanoseconds: UInt64(interval.nanoseconds))
            }
            return sent
        }

        /// Waits up to `wait` for the server to close; returns whether it did.
        func waitForClose(within wait: TimeAmount) async -> Bool {
            let deadline = NIODeadline.now() + wait
            while NIODeadline.now() < deadline && self.isOpen {
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
            return !self.isOpen
        }

        /// Waits up to `wait` until `count` responses have arrived; returns their statuses.
        func waitForResponses(_ count: Int, within wait: TimeAmount = .seconds(10)) async -> [Int] {
            let deadline = NIODeadline.now() + wait
            while NIODeadline.now() < deadline && self.statuses.count < count && self.isOpen {
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
            return self.statuses
        }

        func close() async {
            try? await self.channel.close()
        }
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
