import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A decision's forwarded body, hashed (and, when new, compressed) by the caller before it joins the queue.
struct PreparedBody: Sendable {
    var sha256: SHA256Digest
    /// nil when bodies are not stored, or when the body is already stored (`storedAt`).
    var compressed: [UInt8]?
    /// Where the same bytes are already durably stored, when the caller found them in ``StoredBodies``.
    var storedAt: String? = nil
}
