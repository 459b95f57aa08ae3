import NIOCore
import NIOHTTP1
import NIOTLS

/// Enforces ``RequestDeadlines`` on one lab connection. Sits right after the TLS handler, where it sees the
/// handshake complete and every decrypted read; ``ProxyHTTPHandler`` tells it about request parts as they arrive.
///
/// A TLS handshake that runs out is cut here. A request that runs out is reported down the pipeline as a
/// ``RequestTimeout`` event, for the HTTP handler to answer 408 and close. Per read it costs one comparison; per
/// request one clock read; the timer is re-armed at most once per deadline period, not per request.
final class RequestDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var deadlines: RequestDeadlines
    private let metrics: ConnectionMetrics
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var context: ChannelHandlerContext?

    init(settings: RequestDeadlines.Settings, metrics: ConnectionMetrics) {
        self.deadlines = RequestDeadlines(settings: settings, now: .now())
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.apply(self.deadlines.started())
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.timer?.cancel()
        self.timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.deadlines.isAwaitingHead {
            self.apply(self.deadlines.bytesArrived(now: .now()))
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.deadlines.handshakeCompleted()
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request part as it arrives (before any queueing behind a request in progress), from ProxyHTTPHandler.
    func observe(_ part: HTTPServerRequestPart) {
        switch part {
        case .head:
            self.apply(self.deadlines.headReceived(now: .now()))
        case .body(let buffer):
            self.deadlines.bodyReceived(buffer.readableBytes)
        case .end:
            self.deadlines.endReceived()
        }
    }

    // MARK: Timer

    private func apply(_ action: RequestDeadlines.Action) {
        switch action {
        case .none:
            break
        case .arm(let deadline):
            // An earlier timer is kept: on firing it finds the deadline that applies then.
            if let armed = self.timerDeadline, armed <= deadline { return }
            self.arm(at: deadline)
        case .timeout(let phase):
            self.metrics.countTimeout(phase)
            guard let context = self.context else { return }
            switch phase {
            case .tlsHandshake:
                context.close(promise: nil)
            case .head, .body:
                context.fireUserInboundEventTriggered(RequestTimeout(phase: phase))
            }
        }
    }

    private func arm(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.timer?.cancel()
        self.timerDeadline = deadline
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.timerDeadline = nil
            self.apply(self.deadlines.timerFired(now: .now()))
        }
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
