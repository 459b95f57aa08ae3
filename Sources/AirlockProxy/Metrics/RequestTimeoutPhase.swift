/// Which deadline of a lab connection passed (`RequestDeadlines`): the `phase` label of
/// `airlock_request_timeouts_total`.
enum RequestTimeoutPhase: String, CaseIterable, Sendable {
    case tlsHandshake = "tls_handshake"
    case head
    case body
}
