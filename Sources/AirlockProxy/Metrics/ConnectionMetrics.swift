import Metrics

/// The lab connections on `/metrics`: how many are open, how many were refused at the cap (by reason), and how many
/// requests ran out of time (by phase). No label carries an address.
final class ConnectionMetrics: Sendable {
    /// `airlock_connections_open`: admitted lab connections not yet closed.
    let open: Meter
    private let refused: [ConnectionRefusal: Counter]
    private let timeouts: [RequestTimeoutPhase: Counter]

    init(registry: PrometheusRegistry) {
        registry.setHelp("Lab connections open (admitted, not yet closed).", for: "airlock_connections_open")
        registry.setHelp(
            "Lab connections closed at once because a cap was reached, by reason: global (limits.max_connections) "
                + "or per_peer (limits.max_connections_per_peer).",
            for: "airlock_connections_refused_total"
        )
        registry.setHelp(
            "Lab connections cut because a deadline passed, by phase: tls_handshake, head "
                + "(limits.request_head_timeout_seconds) or body (limits.request_body_*).",
            for: "airlock_request_timeouts_total"
        )
        self.open = Meter(label: "airlock_connections_open", factory: registry)
        var refused: [ConnectionRefusal: Counter] = [:]
        for reason in ConnectionRefusal.allCases {
            refused[reason] = Counter(
                label: "airlock_connections_refused_total",
                dimensions: [("reason", reason.rawValue)],
                factory: registry
            )
        }
        self.refused = refused
        var timeouts: [RequestTimeoutPhase: Counter] = [:]
        for phase in RequestTimeoutPhase.allCases {
            timeouts[phase] = Counter(
                label: "airlock_request_timeouts_total",
                dimensions: [("phase", phase.rawValue)],
                factory: registry
            )
        }
        self.timeouts = timeouts
    }

    func countRefused(_ reason: ConnectionRefusal) {
        self.refused[reason]?.increment()
    }

    func countTimeout(_ phase: RequestTimeoutPhase) {
        self.timeouts[phase]?.increment()
    }
}
