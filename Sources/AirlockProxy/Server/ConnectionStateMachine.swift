import NIOCore
import NIOHTTP1

/// One lab connection's state: which request is in progress, what the client pipelined behind it, when a refused
/// body is skipped, and when the connection closes. Events in, actions out, no I/O (the pattern of NIO's
/// `HTTPServerPipelineHandler` and async-http-client's `HTTP1ConnectionStateMachine`); ``ProxyHTTPHandler``
/// executes the actions.
///
/// One request is handled at a time. Parts that arrive while a complete request waits for its answer are queued
/// here, not by pausing reads (pausing costs two epoll_ctl calls per request); the queue is bounded and a client
/// that overfills it gets the pending answer with `Connection: close` and nothing more.
struct ConnectionStateMachine {
    enum Action: Equatable {
        /// Nothing to do (the part was queued or dropped).
        case none
        /// A request head: run admission, then report ``admitted(keepAlive:)`` or ``refusedEarly(keepAlive:)``.
        case admit(HTTPRequestHead)
        /// Add this part to the request body.
        case appendBody(ByteBuffer)
        /// The body grew past the limit: refuse it 413 (``refusedEarly(keepAlive:)`` with `false`).
        case refuseBodyTooLarge
        /// The request is complete: inspect, forward, answer (then report ``answerReady()``).
        case process
        /// Start the linger timer: keep reading (and dropping) for a while before closing, so the client's TCP
        /// stack does not reset the connection before it has read the refusal.
        case startLingering
        /// The client broke HTTP/1.1 framing: answer 400 (report ``answerReady()``); the connection then closes.
        case refuseMalformed
        /// A request did not arrive in time: answer 408 and close.
        case refuseTimedOut
        /// Write the answer; without keep-alive it carries `Connection: close` and the connection closes after it.
        case write(keepAlive: Bool)
        /// Nothing is written (the connection is already closing).
        case drop
        case close
        /// Close once the last answer is written.
        case closeAfterWrites
    }

    /// What an early refusal (one made before the body is read) does.
    struct EarlyRefusal: Equatable {
        /// Write it with keep-alive; otherwise with `Connection: close`, and close once the refused body has ended.
        var keepAlive: Bool
        var startLingering: Bool
    }

    private enum Phase {
        /// Waiting for a request head.
        case idle
        /// Admitted; buffering the body. `keepAlive`: the request allows a next one.
        case receiving(keepAlive: Bool, bodyBytes: Int)
        /// Refused before the body was read; skipping the rest of it.
        case discarding(Discarding)
        /// The request is complete; waiting for its answer.
        case processing(keepAlive: Bool)
        /// A close is under way; everything is ignored.
        case closing
    }

    /// `closeAtEnd`: close once the body has ended and the refusal is written; `responded`/`ended` track those two.
    private struct Discarding {
        var closeAtEnd: Bool
        var discarded = 0
        var responded = false
        var ended = false
    }

    private var phase = Phase.idle
    private var queued = CircularBuffer<HTTPServerRequestPart>(initialCapacity: 4)
    private var queuedBytes = 0
    /// Shutdown has begun: answer what is in progress with `Connection: close`, then close.
    private var quiescing = false
    /// Nothing more is read: the client broke the framing or overfilled the queue behind a pending answer.
    private var inputEnded = false
    private var lingering = false
    private let maxBodyBytes: Int
    private let maxQueuedBytes: Int

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxQueuedBytes = maxBodyBytes + (1 << 20)
    }

    /// True while the current request has ended but its answer is not written: later parts must wait.
    private var mustQueue: Bool {
        switch self.phase {
        case .processing: true
        case .discarding(let discarding): discarding.ended && !discarding.responded
        case .idle, .receiving, .closing: false
        }
    }

    /// False once input has ended: everything the client still sends is dropped unread.
    var isReading: Bool { !self.inputEnded }

    var isClosing: Bool {
        if case .closing = self.phase { return true }
        return false
    }

    // MARK: Reads

    /// A request part arrived from the lab.
    mutating func read(_ part: HTTPServerRequestPart) -> Action {
        guard !self.inputEnded else { return .none }
        guard self.queued.isEmpty && !self.mustQueue else { return self.enqueue(part) }
        return self.handle(part)
    }

    /// The next queued part to handle, once the request before it is answered; nil while it must wait.
    mutating func nextQueued() -> HTTPServerRequestPart? {
        guard !self.mustQueue, let part = self.queued.popFirst() else { return nil }
        if self.queued.isEmpty { self.queuedBytes = 0 }
        if self.isClosing {
            self.clearQueue()
            return nil
        }
        return part
    }

    /// Handles a part taken from ``nextQueued()``.
    mutating func handle(_ part: HTTPServerRequestPart) -> Action {
        switch part {
        case .head(let head): self.receivedHead(head)
        case .body(let body): self.receivedBody(body)
        case .end: self.receivedEnd()
        }
    }

    private mutating func receivedHead(_ head: HTTPRequestHead) -> Action {
        switch self.phase {
        case .idle:
            return .admit(head)
        case .closing:
            return .none  // pipelined behind one answered with Connection: close
        case .receiving, .discarding, .processing:
            preconditionFailure("a request head arrived while another request was in progress")
        }
    }

    private mutating func receivedBody(_ part: ByteBuffer) -> Action {
        switch self.phase {
        case .receiving(let keepAlive, let bodyBytes):
            guard bodyBytes + part.readableBytes <= self.maxBodyBytes else { return .refuseBodyTooLarge }
            self.phase = .receiving(keepAlive: keepAlive, bodyBytes: bodyBytes + part.readableBytes)
            return .appendBody(part)
        case .discarding(var discarding):
            discarding.discarded += part.readableBytes
            var action = Action.none
            if !discarding.closeAtEnd && discarding.discarded > self.maxBodyBytes {
                // Too much to skip for the sake of keep-alive.
                discarding.closeAtEnd = true
                action = self.startLingering()
            }
            self.phase = .discarding(discarding)
            return action
        case .closing:
            return .none
        case .idle, .processing:
            preconditionFailure("request body without a request head")
        }
    }

    private mutating func receivedEnd() -> Action {
        switch self.phase {
        case .receiving(let keepAlive, _):
            self.phase = .processing(keepAlive: keepAlive)
            return .process
        case .discarding(var discarding):
            discarding.ended = true
            self.phase = .discarding(discarding)
            return self.finishDiscardingIfDone()
        case .closing:
            return .none
        case .idle, .processing:
            preconditionFailure("request end without a request head")
        }
    }

    private mutating func enqueue(_ part: HTTPServerRequestPart) -> Action {
        if self.isClosing { return .none }
        switch part {
        case .body(let buffer): self.queuedBytes += buffer.readableBytes
        case .head, .end: self.queuedBytes += 512
        }
        guard self.queuedBytes <= self.maxQueuedBytes else { return self.endInputAfterPendingAnswer() }
        self.queued.append(part)
        return .none
    }

    // MARK: Admission and answers

    /// The head was admitted; its body follows. `keepAlive`: the request allows another after it.
    mutating func admitted(keepAlive: Bool) {
        self.phase = .receiving(keepAlive: keepAlive, bodyBytes: 0)
    }

    /// The request was refused before its body was read (nothing of it is forwarded); the rest of the body is
    /// skipped. `keepAlive`: whether admission judged the connection reusable after the refusal.
    mutating func refusedEarly(keepAlive: Bool) -> EarlyRefusal {
        let startLingering = !keepAlive && self.startLingering() == .startLingering
        let writeKeepAlive = keepAlive && !self.quiescing
        self.phase = .discarding(Discarding(closeAtEnd: !writeKeepAlive, responded: true))
        return EarlyRefusal(keepAlive: writeKeepAlive, startLingering: startLingering)
    }

    /// The answer to the complete request is ready (from the vendor, the seams, or a refusal).
    mutating func answerReady() -> Action {
        guard case .processing(let requestKeepAlive) = self.phase else { return .drop }  // the lab went away
        let keepAlive = requestKeepAlive && !self.quiescing
        self.phase = keepAlive ? .idle : .closing
        return .write(keepAlive: keepAlive)
    }

    /// Once the refusal is written and the refused body has ended: back to idle, or close.
    private mutating func finishDiscardingIfDone() -> Action {
        guard case .discarding(let discarding) = self.phase, discarding.responded, discarding.ended else {
            return .none
        }
        if discarding.closeAtEnd || self.quiescing {
            self.phase = .closing
            return .closeAfterWrites
        }
        self.phase = .idle
        return .none
    }

    private mutating func startLingering() -> Action {
        guard !self.lingering else { return .none }
        self.lingering = true
        return .startLingering
    }

    // MARK: Connection events

    /// The request decoder failed: the client broke HTTP/1.1 framing.
    mutating func parseFailed() -> Action {
        switch self.phase {
        case .idle, .receiving:
            self.phase = .processing(keepAlive: false)
            return .refuseMalformed
        case .discarding, .processing:
            // Pipelined behind a request being answered: that answer is still written, then the connection closes.
            return self.endInputAfterPendingAnswer()
        case .closing:
            return .close
        }
    }

    /// Any other error: close.
    mutating func failed() -> Action {
        self.phase = .closing
        return .close
    }

    /// Shutdown has begun: an idle connection closes now, a busy one after its answer.
    mutating func quiesce() -> Action {
        self.quiescing = true
        guard case .idle = self.phase, self.queued.isEmpty else { return .none }
        self.phase = .closing
        return .close
    }

    /// A request's head or body did not arrive in time. Nothing of it was forwarded (a request leaves only once
    /// complete): 408 when no other answer is due first, then close.
    mutating func requestTimedOut() -> Action {
        switch self.phase {
        case .idle, .receiving:
            self.phase = .closing
            self.clearQueue()
            return .refuseTimedOut
        case .discarding:
            // Already refused; the rest of its body is not worth waiting for.
            self.phase = .closing
            return .closeAfterWrites
        case .processing:
            // One pipelined behind the request in progress: that one is answered with Connection: close, then
            // the connection closes without reading further.
            self.quiescing = true
            self.clearQueue()
            return .none
        case .closing:
            return .none
        }
    }

    /// The client sent nothing for the idle timeout. Waiting for the vendor is bounded by the upstream timeout.
    mutating func readIdle() -> Action {
        switch self.phase {
        case .idle, .receiving, .discarding:
            self.phase = .closing
            return .close
        case .processing, .closing:
            return .none
        }
    }

    /// The linger after a refusal with `Connection: close` is over.
    mutating func lingerEnded() -> Action {
        self.phase = .closing
        return .close
    }

    mutating func channelInactive() {
        self.phase = .closing
    }

    /// Stops reading: drops what is queued (none of it was forwarded) and everything the client still sends. A
    /// request already complete, or refused with its answer not yet written, is still answered with
    /// `Connection: close`; without one, the connection closes now.
    private mutating func endInputAfterPendingAnswer() -> Action {
        self.clearQueue()
        switch self.phase {
        case .processing:
            self.inputEnded = true
            self.phase = .processing(keepAlive: false)
            return .none
        case .discarding(var discarding) where discarding.ended && !discarding.responded:
            self.inputEnded = true
            discarding.closeAtEnd = true
            self.phase = .discarding(discarding)
            return .none
        case .idle, .receiving, .discarding, .closing:
            self.phase = .closing
            return .close
        }
    }

    private mutating func clearQueue() {
        self.queued.removeAll()
        self.queuedBytes = 0
    }
}
