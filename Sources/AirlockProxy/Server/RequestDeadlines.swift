import NIOCore

/// The deadlines of one lab connection, so a client that trickles bytes cannot hold it:
///
/// - TLS handshake: done within `limits.tls_handshake_timeout_seconds` of the accept.
/// - Request head: complete within `limits.request_head_timeout_seconds` of its first byte. Before that first byte
///   the connection is idle, which `limits.client_idle_timeout_seconds` bounds (no byte at all for that long).
/// - Request body: after the head, `limits.request_body_grace_seconds` plus one second per
///   `limits.request_body_min_bytes_per_second` bytes received so far: once the grace is spent, the body must keep
///   up the minimum rate on average. With the rate at 0 there is no body deadline (the idle timeout still applies).
/// - Once the request is complete, none: waiting for the vendor is bounded by `limits.upstream_timeout_seconds`.
///
/// Events come from ``RequestDeadlineHandler`` (bytes, handshake, timer) and ``ProxyHTTPHandler`` (request parts as
/// they arrive); the answers are the actions to take. One timer per connection is armed lazily: it fires at the
/// earliest deadline that can apply, and on firing either reports the timeout or names the next deadline. So
/// requests on a busy keep-alive connection schedule no timer of their own.
struct RequestDeadlines {
    typealias Phase = RequestTimeoutPhase

    struct Settings: Sendable {
        var handshake: TimeAmount
        var head: TimeAmount
        var bodyGrace: TimeAmount
        /// 0: no body deadline.
        var bodyMinBytesPerSecond: Int

        init(limits: ProxyConfiguration.Limits) {
            func amount(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
            self.handshake = amount(limits.tlsHandshakeTimeoutSeconds)
            self.head = amount(limits.requestHeadTimeoutSeconds)
            self.bodyGrace = amount(limits.requestBodyGraceSeconds)
            self.bodyMinBytesPerSecond = limits.requestBodyMinBytesPerSecond
        }
    }

    enum Action: Equatable {
        case none
        /// Make sure a timer fires at or before this instant.
        case arm(NIODeadline)
        /// The phase's deadline passed: cut the connection (with 408 when a request is under way).
        case timeout(Phase)
    }

    private enum State {
        case handshake(since: NIODeadline)
        /// Between requests: no byte of the next one yet.
        case awaitingHead
        case head(since: NIODeadline)
        case body(since: NIODeadline, received: Int)
        /// A deadline passed; the connection is being cut.
        case expired
    }

    let settings: Settings
    private var state: State

    init(settings: Settings, now: NIODeadline) {
        self.settings = settings
        self.state = .handshake(since: now)
    }

    /// Only then does a read matter (it starts a request head): checked per read, so it is a plain comparison.
    var isAwaitingHead: Bool {
        if case .awaitingHead = self.state { return true }
        return false
    }

    /// When the current phase runs out, if it can.
    var deadline: NIODeadline? {
        switch self.state {
        case .handshake(let since):
            return since + self.settings.handshake
        case .head(let since):
            return since + self.settings.head
        case .body(let since, let received):
            guard self.settings.bodyMinBytesPerSecond > 0 else { return nil }
            // received / rate seconds, in nanoseconds, without overflow for any body Airlock accepts.
            let earned = Int64(Double(received) / Double(self.settings.bodyMinBytesPerSecond) * 1e9)
            return since + self.settings.bodyGrace + .nanoseconds(earned)
        case .awaitingHead, .expired:
            return nil
        }
    }

    var phase: Phase? {
        switch self.state {
        case .handshake: return .tlsHandshake
        case .head: return .head
        case .body: return .body
        case .awaitingHead, .expired: return nil
        }
    }

    /// The connection is set up: its deadline starts now.
    func started() -> Action {
        self.deadline.map(Action.arm) ?? .none
    }

    mutating func handshakeCompleted() {
        guard case .handshake = self.state else { return }
        self.state = .awaitingHead
    }

    /// Bytes arrived while no request was under way: the first of the next request's head.
    mutating func bytesArrived(now: NIODeadline) -> Action {
        guard case .awaitingHead = self.state else { return .none }
        self.state = .head(since: now)
        return self.started()
    }

    /// A request head was parsed: its body's deadline starts.
    mutating func headReceived(now: NIODeadline) -> Action {
        switch self.state {
        case .awaitingHead, .head:
            self.state = .body(since: now, received: 0)
            return self.started()
        case .handshake, .body, .expired:
            return .none
        }
    }

    mutating func bodyReceived(_ bytes: Int) {
        guard case .body(let since, let received) = self.state else { return }
        self.state = .body(since: since, received: received + bytes)
    }

    /// The request is complete: no deadline until the next one's first byte.
    mutating func endReceived() {
        switch self.state {
        case .head, .body:
            self.state = .awaitingHead
        case .handshake, .awaitingHead, .expired:
            break
        }
    }

    /// The timer fired: either the current phase ran out, or here is when it will.
    mutating func timerFired(now: NIODeadline) -> Action {
        guard let deadline = self.deadline, let phase = self.phase else { return .none }
        guard now >= deadline else { return .arm(deadline) }
        self.state = .expired
        return .timeout(phase)
    }
}

/// Fired down the pipeline when a request's head or body did not arrive in time; ``ProxyHTTPHandler`` answers 408
/// (when nothing else is in progress) and closes. Nothing of that request has been forwarded: a request is only
/// forwarded once it is complete.
struct RequestTimeout: Sendable {
    var phase: RequestDeadlines.Phase
}

extension RequestTimeout {
    /// The refusal cause the lab is answered with.
    var cause: RefusalCause {
        switch self.phase {
        case .head: .requestHeadTimeout
        case .body, .tlsHandshake: .requestBodyTimeout
        }
    }
}
