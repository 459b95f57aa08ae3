import Synchronization

/// Caps the lab connections open at once, in all (`limits.max_connections`) and per peer address
/// (`limits.max_connections_per_peer`). A connection beyond a cap is closed as soon as it is accepted, before the
/// TLS handshake: refusing with a 503 would cost a handshake per attempt, which is what a flood of connections
/// wants to make us spend. Touched once when a connection opens and once when it closes, never per request.
final class ConnectionLimits: Sendable {
    typealias Refusal = ConnectionRefusal

    /// Thrown from the child channel initializer: the bootstrap then closes the accepted socket unregistered.
    struct CapReached: Error {
        var refusal: Refusal
    }

    private struct State {
        var open = 0
        var perPeer: [String: Int] = [:]
    }

    let maxConnections: Int
    let maxPerPeer: Int
    private let state = Mutex(State())
    private let metrics: ConnectionMetrics

    init(maxConnections: Int, maxPerPeer: Int, metrics: ConnectionMetrics) {
        self.maxConnections = maxConnections
        self.maxPerPeer = maxPerPeer
        self.metrics = metrics
    }

    /// Takes a slot for a connection from `peer` (its IP address; nil counts only towards the global cap), or says
    /// which cap is reached. An admitted connection must be ``release(_:)``d exactly once.
    func admit(_ peer: String?) -> Refusal? {
        let refusal: Refusal? = self.state.withLock { state in
            guard state.open < self.maxConnections else { return .global }
            if let peer {
                let count = state.perPeer[peer, default: 0]
                guard count < self.maxPerPeer else { return .perPeer }
                state.perPeer[peer] = count + 1
            }
            state.open += 1
            return nil
        }
        if let refusal {
            self.metrics.countRefused(refusal)
        } else {
            self.metrics.open.increment()
        }
        return refusal
    }

    func release(_ peer: String?) {
        self.state.withLock { state in
            state.open -= 1
            guard let peer, let count = state.perPeer[peer] else { return }
            state.perPeer[peer] = count > 1 ? count - 1 : nil
        }
        self.metrics.open.decrement()
    }
}
