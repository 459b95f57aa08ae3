/// Which cap closed a lab connection at once (`ConnectionLimits`): the `reason` label of
/// `airlock_connections_refused_total`.
enum ConnectionRefusal: String, CaseIterable, Sendable {
    case global
    case perPeer = "per_peer"
}
