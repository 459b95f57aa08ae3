import AirlockSupport
import Foundation

/// Who sent the request: the peer address, with mutual TLS the verified certificate subject, and with `clients:`
/// the name of the configured client it was recognised as.
public struct AuditClient: Sendable, Codable, Hashable {
    public var ip: String
    public var subject: String?
    public var name: String?

    public init(ip: String, subject: String? = nil, name: String? = nil) {
        self.ip = ip
        self.subject = subject
        self.name = name
    }
}
