/// What an inspector decided about a request.
public enum EgressDecision: Sendable {
    /// Send this (possibly rewritten) request to the vendor.
    case forward(EgressRequest)
    /// Send nothing to the vendor; answer the lab with this refusal.
    case refuse(EgressRefusal)
}
