import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where this writer session already stored each body (SHA-256 → `pack:offset:length`), so repeated bodies are
/// stored once and their callers skip compressing them. Only references to durable (fsync'd) pack members are added.
/// Bounded: forgotten wholesale past 100,000 entries (a forgotten body is merely stored again). Thread-safe.
final class StoredBodies: @unchecked Sendable {
    // `@unchecked`: `references` is only touched under `lock`.
    private let lock = NSLock()
    private var references: [SHA256Digest: String] = [:]

    func reference(for sha256: SHA256Digest) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return references[sha256]
    }

    func add(_ stored: [SHA256Digest: String]) {
        lock.lock()
        defer { lock.unlock() }
        if references.count > 100_000 { references.removeAll(keepingCapacity: true) }
        references.merge(stored) { _, new in new }
    }
}
