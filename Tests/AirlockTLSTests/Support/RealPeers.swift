import AirlockTLS
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOTLS

/// A TLS server on 127.0.0.1 built from Airlock's handler, with an application handler per connection.
final class LoopbackTLSServer: Sendable {
    let channel: Channel
    let errors = NIOLockedValueBox<[TLSError]>([])
    let identities = NIOLockedValueBox<[TLSPeerIdentity?]>([])
    /// Per completed handshake: the SNI name the client sent and the protocol version agreed on.
    let handshakes = NIOLockedValueBox<[(serverName: String?, protocolVersion: String?)]>([])

    var port: Int { self.channel.localAddress!.port! }

    /// `application` makes the handler that sits above TLS for each accepted connection.
    init(
        context: TLSServerContext,
        group: EventLoopGroup,
        application: @escaping @Sendable () -> ChannelHandler & Sendable
    ) throws {
        let errors = self.errors
        let identities = self.identities
        let handshakes = self.handshakes
        self.channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = context.makeHandler()
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(
                        ErrorAndIdentityCollector(
                            tls: tls,
                            errors: errors,
                            identities: identities,
                            handshakes: handshakes
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(application())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .wait()
    }

    func close() {
        try? self.channel.close().wait()
    }
}

/// Notes TLS errors and, once the handshake is done, the peer identity.
final class ErrorAndIdentityCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let tls: TLSHandler
    let errors: NIOLockedValueBox<[TLSError]>
    let identities: NIOLockedValueBox<[TLSPeerIdentity?]>
    let handshakes: NIOLockedValueBox<[(serverName: String?, protocolVersion: String?)]>

    init(
        tls: TLSHandler,
        errors: NIOLockedValueBox<[TLSError]>,
        identities: NIOLockedValueBox<[TLSPeerIdentity?]>,
        handshakes: NIOLockedValueBox<[(serverName: String?, protocolVersion: String?)]>
    ) {
        self.tls = tls
        self.errors = errors
        self.identities = identities
        self.handshakes = handshakes
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSUserEvent {
            let identity = self.tls.peerIdentity
            self.identities.withLockedValue { $0.append(identity) }
            let handshake = (serverName: self.tls.serverName, protocolVersion: self.tls.protocolVersion)
            self.handshakes.withLockedValue { $0.append(handshake) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? TLSError {
            self.errors.withLockedValue { $0.append(error) }
        }
        context.close(promise: nil)
    }
}

/// Echoes everything back; closes (with close_notify) once `closeAfter` bytes have been echoed.
final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let closeAfter: Int
    private let echoed = NIOLockedValueBox(0)

    init(closeAfter: Int) {
        self.closeAfter = closeAfter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        let total = self.echoed.withLockedValue { echoed in
            echoed += buffer.readableBytes
            return echoed
        }
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        if total >= self.closeAfter {
            context.flush()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Answers every request with a fixed HTTP/1.1 response and keeps the connection.
final class FixedHTTPResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let body: String

    init(body: String) {
        self.body = body
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = String(buffer: self.unwrapInboundIn(data))
        guard request.contains("\r\n\r\n") else { return }
        let response =
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: \(self.body.utf8.count)\r\n\r\n\(self.body)"
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
    }
}

/// A long-running peer process (`openssl s_server`), stopped when the test ends.
final class PeerProcess: @unchecked Sendable {
    // @unchecked: the Process is only touched from the test that owns this object.
    let process = Process()
    let output = Pipe()

    init(_ arguments: [String], waitForPort port: Int) throws {
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        self.process.arguments = arguments
        self.process.standardOutput = self.output
        self.process.standardError = self.output
        self.process.standardInput = Pipe()
        try self.process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            // A peer that exited (its port was taken meanwhile) is not the listener another test may have there.
            guard self.process.isRunning else { break }
            if Ports.isListening(port) && self.process.isRunning { return }
            usleep(20_000)
        }
        self.stop()
        throw Shell.Failure(command: arguments.joined(separator: " "), status: -1, output: "never listened on \(port)")
    }

    func stop() {
        if self.process.isRunning {
            // s_server does not always stop on SIGTERM while it waits in accept.
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    deinit {
        self.stop()
    }
}

enum Ports {
    /// A port that was free a moment ago (for peers that cannot report the port they bound).
    static func free() throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }

    static func isListening(_ port: Int) -> Bool {
        let group = MultiThreadedEventLoopGroup.singleton
        guard
            let channel = try? ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: port)
                .wait()
        else { return false }
        try? channel.close().wait()
        return true
    }
}

/// Connects Airlock's TLS client to a peer and collects what comes back until the connection closes.
final class ClientProbe: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let received = NIOLockedValueBox(ByteBuffer())
    let errors = NIOLockedValueBox<[TLSError]>([])
    let handshakeDone = NIOLockedValueBox(false)
    let sessionReused = NIOLockedValueBox(false)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        _ = self.received.withLockedValue { $0.writeBuffer(&buffer) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSUserEvent {
            self.handshakeDone.withLockedValue { $0 = true }
            let reused = (try? context.pipeline.syncOperations.handler(type: TLSHandler.self))?.sessionReused ?? false
            self.sessionReused.withLockedValue { $0 = reused }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? TLSError { self.errors.withLockedValue { $0.append(error) } }
        context.close(promise: nil)
    }

    var text: String { self.received.withLockedValue { String(buffer: $0) } }

    /// Connects, sends `request`, and waits (bounded) until the peer closes.
    static func exchange(
        context: TLSClientContext,
        hostname: String,
        port: Int,
        request: String
    ) throws -> ClientProbe {
        let probe = ClientProbe()
        let channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = context.makeHandler(serverHostname: hostname)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(probe)
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .wait()
        channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        let closed = channel.closeFuture
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        try? closed.wait()
        timeout.cancel()
        return probe
    }
}
