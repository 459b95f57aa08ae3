import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whom the writer tells that a queued record is durable, or why it is not. Runs on the writer thread.
enum StagedCompletion: Sendable {
    case durable(@Sendable (Result<Void, AuditError>) -> Void)
    /// A decision whose caller wants its place in the chain.
    case receipt(id: String, forwardedSHA256: String?, @Sendable (Result<AuditReceipt, AuditError>) -> Void)
}
