/// Which way the recorded request went: from the lab to a vendor, or a vendor's callback into the lab.
public enum AuditDirection: String, Sendable, Codable, CaseIterable {
    case egress
    /// A vendor's callback to the lab (the callback listener).
    case inbound
}
