import NIOCore
import NIOTLS

/// The handler a ``TLSServerContext`` makes for each accepted connection.
public typealias TLSServerHandler = TLSHandler
/// The handler a ``TLSClientContext`` makes for each connection to a vendor.
public typealias TLSClientHandler = TLSHandler

/// Runs TLS over OpenSSL for one channel: ciphertext below, plaintext above.
///
/// Put it first in the pipeline. It fires `TLSUserEvent.handshakeCompleted` once the handshake is done (and, on the
/// client, the pins checked); writes issued before that wait, and go out on the first flush after it. Writes are
/// encrypted on `flush` and leave as few socket writes as possible; every write promise is completed or failed.
/// Closing sends close_notify first. A peer's close_notify is answered and the channel closed; a peer that closes
/// without one is reported as ``TLSError/Code-swift.enum/uncleanShutdown``. Every failure reaches `errorCaught` as a
/// ``TLSError`` and closes the channel. All methods run on the channel's event loop.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    enum Role {
        case server(TLSServerContext)
        case client(TLSClientContext, serverHostname: String)
    }

    private enum State {
        /// Added, nothing exchanged yet.
        case idle
        case handshaking
        case active
        /// Our close_notify is on its way; the channel closes once it is written.
        case closing
        case closed
    }

    /// Ciphertext is handed to the channel in pieces of at most this size, so large writes don't double memory.
    private static let outboundChunk = 256 * 1024
    /// The most plaintext one TLS record carries.
    private static let recordPayload = 16 * 1024
    /// Plaintext is delivered upwards in buffers of this size (TLS records are at most 16 KiB).
    private static let inboundChunk = 64 * 1024

    private let role: Role
    private var connection: TLSConnection?
    private var state: State = .idle
    private var pendingWrites = MarkedCircularBuffer<(data: ByteBuffer, promise: EventLoopPromise<Void>?)>(
        initialCapacity: 8
    )
    private var closePromise: EventLoopPromise<Void>?
    private var deliveredPlaintext = false

    /// After the handshake: who the peer's verified certificate names (the client, for mTLS; the vendor, as client).
    public private(set) var peerIdentity: TLSPeerIdentity?
    /// After the handshake, on the server: the host name the client asked for with SNI.
    public private(set) var serverName: String?
    /// After the handshake: the ALPN protocol agreed on, if any.
    public private(set) var negotiatedProtocol: String?
    /// After the handshake: whether an earlier session was resumed instead of a full handshake.
    public private(set) var sessionReused = false
    /// After the handshake: "TLSv1.3" or "TLSv1.2".
    public private(set) var protocolVersion: String?

    init(role: Role) {
        self.role = role
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            switch self.role {
            case .server(let server):
                self.connection = try TLSConnection(server: server)
            case .client(let client, let hostname):
                self.connection = try TLSConnection(client: client, serverHostname: hostname)
            }
        } catch {
            self.fail(context: context, error: error)
            return
        }
        if context.channel.isActive {
            self.startHandshakeIfClient(context: context)
        }
    }

    public func channelActive(context: ChannelHandlerContext) {
        self.startHandshakeIfClient(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .handshaking, .active:
            self.state = .closed
            context.fireErrorCaught(
                TLSError(code: .uncleanShutdown, message: "the peer closed the connection without close_notify")
            )
        case .closing, .closed:
            self.state = .closed
        }
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            switch self.state {
            case .idle, .handshaking, .active:
                // A TCP half-close is not a TLS close: the peer can no longer send close_notify.
                self.fail(
                    context: context,
                    error: TLSError(code: .uncleanShutdown, message: "the peer closed its side without close_notify")
                )
            case .closing, .closed:
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = self.unwrapInboundIn(data)
        guard let connection = self.connection else { return }
        switch self.state {
        case .closed:
            return
        case .idle, .handshaking, .active, .closing:
            connection.feed(ciphertext)
            self.advance(context: context)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        self.sendOutbound(context: context, flush: true)
        if self.deliveredPlaintext {
            self.deliveredPlaintext = false
            context.fireChannelReadComplete()
        }
    }

    /// Moves the connection forward with whatever ciphertext has arrived.
    private func advance(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .handshaking:
            self.continueHandshake(context: context)
        case .active, .closing:
            self.readPlaintext(context: context)
        case .closed:
            break
        }
    }

    private func startHandshakeIfClient(context: ChannelHandlerContext) {
        guard case .client = self.role, case .idle = self.state, self.connection != nil else { return }
        self.continueHandshake(context: context)
    }

    private func continueHandshake(context: ChannelHandlerContext) {
        guard let connection = self.connection else { return }
        self.state = .handshaking
        switch connection.handshake() {
        case .needsMoreData:
            self.sendOutbound(context: context, flush: true)
        case .failed(let error):
            // The alert OpenSSL queued tells the peer why; send it before closing.
            self.sendOutbound(context: context, flush: true)
            self.fail(context: context, error: error)
        case .complete:
            if case .client(let client, _) = self.role, !client.pins.isEmpty, !connection.matchesAnyPin(client.pins) {
                self.fail(
                    context: context,
                    error: TLSError(
                        code: .pinMismatch,
                        message: "no certificate in the vendor's verified chain matches a configured pin_sha256"
                    )
                )
                return
            }
            self.state = .active
            self.peerIdentity = connection.peerIdentity
            self.serverName = connection.isServer ? connection.serverName : nil
            self.negotiatedProtocol = connection.negotiatedProtocol
            self.sessionReused = connection.sessionReused
            self.protocolVersion = connection.protocolVersion
            self.sendOutbound(context: context, flush: true)
            context.fireUserInboundEventTriggered(
                TLSUserEvent.handshakeCompleted(negotiatedProtocol: self.negotiatedProtocol)
            )
            // Writes that waited for the handshake may go now, if they were flushed.
            if self.pendingWrites.hasMark {
                self.encryptFlushedWrites(context: context)
            }
            // Application data can arrive in the same read as the handshake's last message.
            if case .active = self.state {
                self.readPlaintext(context: context)
            }
        }
    }

    private func readPlaintext(context: ChannelHandlerContext) {
        guard let connection = self.connection else { return }
        while true {
            // Sized by what can come out (plaintext is never longer than the ciphertext behind it), so a 4 KiB
            // request does not cost a 64 KiB allocation, and nothing is allocated when nothing is pending.
            let pending = connection.pendingInboundBytes
            guard pending > 0 || connection.hasBufferedRecordData else { return }
            var buffer = context.channel.allocator.buffer(
                capacity: pending > 0 ? min(Self.inboundChunk, pending) : Self.recordPayload
            )
            var outcome: TLSConnection.ReadResult = .needsMoreData
            while buffer.writableBytes > 0 {
                outcome = connection.read(into: &buffer)
                guard case .data = outcome else { break }
            }
            if buffer.readableBytes > 0 {
                self.deliveredPlaintext = true
                context.fireChannelRead(self.wrapInboundOut(buffer))
                // A handler above may have closed the channel in response.
                if case .closed = self.state { return }
            }
            switch outcome {
            case .data:
                continue  // the buffer filled up; there may be more
            case .needsMoreData:
                // Reading can produce output too (TLS 1.3 key updates); send it with the next flush.
                return
            case .closeNotify:
                self.answerCloseNotify(context: context)
                return
            case .failed(let error):
                self.fail(context: context, error: error)
                return
            }
        }
    }

    private func answerCloseNotify(context: ChannelHandlerContext) {
        guard let connection = self.connection else { return }
        switch self.state {
        case .active:
            self.encryptFlushedWrites(context: context)
            connection.shutdown()
            self.state = .closing
            self.sendOutbound(context: context, flush: true, then: { context.close(promise: nil) })
        case .closing:
            // We already said goodbye; the close follows once our close_notify is written.
            break
        case .idle, .handshaking, .closed:
            context.close(promise: nil)
        }
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.state {
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        case .idle, .handshaking, .active:
            self.pendingWrites.append((data: self.unwrapOutboundIn(data), promise: promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        self.pendingWrites.mark()
        if case .active = self.state {
            self.encryptFlushedWrites(context: context)
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .input {
            context.close(mode: .input, promise: promise)
            return
        }
        switch self.state {
        case .idle, .handshaking:
            self.state = .closed
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: .all, promise: promise)
        case .active:
            self.state = .closing
            self.closePromise = promise
            self.encryptFlushedWrites(context: context)
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            self.connection?.shutdown()
            self.sendOutbound(context: context, flush: true) { [self] in
                self.state = .closed
                let promise = self.closePromise
                self.closePromise = nil
                context.close(mode: .all, promise: promise)
            }
        case .closing:
            if let promise {
                if let existing = self.closePromise {
                    existing.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
        case .closed:
            promise?.fail(ChannelError.alreadyClosed)
        }
    }

    /// Encrypts every write up to the last flush, hands the ciphertext to the channel and flushes it.
    private func encryptFlushedWrites(context: ChannelHandlerContext) {
        guard let connection = self.connection, self.pendingWrites.hasMark else { return }
        var promises: [EventLoopPromise<Void>] = []
        // Small writes (an HTTP head, then its body) are gathered into one TLS record instead of one record each.
        var gathered: ByteBuffer?
        // Whether `gathered` is our own buffer (two or more writes copied in) or still the caller's lone write.
        var gatheredIsCopy = false
        var failure: TLSError?

        func encrypt(_ data: ByteBuffer) {
            guard failure == nil else { return }
            failure = connection.write(data)
            // Hand over full chunks as we go; the last (partial) one carries the promises.
            while failure == nil, connection.pendingOutboundBytes >= Self.outboundChunk,
                let chunk = connection.takeOutbound(allocator: context.channel.allocator, limit: Self.outboundChunk)
            {
                context.write(self.wrapOutboundOut(chunk), promise: nil)
            }
        }

        while self.pendingWrites.hasMark, let write = self.pendingWrites.popFirst() {
            if let promise = write.promise { promises.append(promise) }
            if write.data.readableBytes < Self.recordPayload {
                if let pending = gathered, pending.readableBytes + write.data.readableBytes > Self.recordPayload {
                    encrypt(pending)
                    gathered = nil
                }
                if gathered == nil {
                    // A lone small write is encrypted as it is; a copy is made only when a second one joins it.
                    gathered = write.data
                    gatheredIsCopy = false
                } else if gatheredIsCopy {
                    gathered!.writeImmutableBuffer(write.data)
                } else {
                    var copy = context.channel.allocator.buffer(capacity: Self.recordPayload)
                    copy.writeImmutableBuffer(gathered!)
                    copy.writeImmutableBuffer(write.data)
                    gathered = copy
                    gatheredIsCopy = true
                }
            } else {
                if let pending = gathered {
                    encrypt(pending)
                    gathered = nil
                }
                encrypt(write.data)
            }
        }
        if let pending = gathered {
            encrypt(pending)
        }
        if let failure {
            for promise in promises { promise.fail(failure) }
            self.failPendingWrites(failure)
            self.fail(context: context, error: failure)
            return
        }
        if let last = connection.takeOutbound(allocator: context.channel.allocator) {
            let writePromise = promises.isEmpty ? nil : context.eventLoop.makePromise(of: Void.self)
            context.write(self.wrapOutboundOut(last), promise: writePromise)
            if let writePromise {
                for promise in promises { writePromise.futureResult.cascade(to: promise) }
            }
        } else if !promises.isEmpty {
            // All ciphertext already went out in full chunks (or there was none): those writes are ordered before
            // this flush, so the plaintext promises can follow the flush itself.
            let flushed = context.eventLoop.makePromise(of: Void.self)
            context.write(self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: flushed)
            for promise in promises { flushed.futureResult.cascade(to: promise) }
        }
        context.flush()
    }

    /// Hands the ciphertext OpenSSL produced to the channel; `then` runs once it has been written.
    private func sendOutbound(
        context: ChannelHandlerContext,
        flush: Bool,
        then: (() -> Void)? = nil
    ) {
        guard let connection = self.connection,
            let ciphertext = connection.takeOutbound(allocator: context.channel.allocator)
        else {
            then?()
            return
        }
        if let then {
            let promise = context.eventLoop.makePromise(of: Void.self)
            promise.futureResult.assumeIsolated().whenComplete { _ in then() }
            context.write(self.wrapOutboundOut(ciphertext), promise: promise)
        } else {
            context.write(self.wrapOutboundOut(ciphertext), promise: nil)
        }
        if flush {
            context.flush()
        }
    }

    // MARK: Failure

    private func fail(context: ChannelHandlerContext, error: Error) {
        switch self.state {
        case .closed:
            return
        case .idle, .handshaking, .active, .closing:
            break
        }
        self.state = .closed
        self.failPendingWrites(error)
        context.fireErrorCaught(error)
        let promise = self.closePromise
        self.closePromise = nil
        context.close(promise: promise)
    }

    private func failPendingWrites(_ error: Error) {
        while let write = self.pendingWrites.popFirst() {
            write.promise?.fail(error)
        }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
