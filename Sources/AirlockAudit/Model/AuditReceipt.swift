import AirlockSupport
import Foundation

/// Proof that a decision record is durable: its place in the chain.
public struct AuditReceipt: Sendable, Hashable {
    public var id: String
    public var seq: Int
    /// The record's chain hash (hex SHA-256).
    public var hash: String
    /// SHA-256 (hex) of the forwarded body, when one was given.
    public var forwardedSHA256: String?
    /// RFC 3339 time written in the record.
    public var time: String
}
