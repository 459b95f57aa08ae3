import Foundation

/// The path steps of names in which no rule of the policy matches anything, shared by every request of one
/// `Redactor`. Such a name leaves as it came whatever the vendor, so its step (`ReportedText.keyStep` of the name
/// itself) is the same for every request; without this, each request scanned its JSON keys again (`tasks`, `prompt`,
/// `content`...) to name the paths of its findings, a database scan per key and body (about 5% of a 64 KiB body's
/// redaction). Names with a match are not kept here: what they leave as depends on the vendor. Thread-safe, bounded.
final class UnmatchedNames: @unchecked Sendable {
    static let capacity = 4096
    /// The longest name kept. A key is content and can be as long as a body (`max_body_bytes`); the cache lives as
    /// long as the policy, so unbounded names would pile up to `capacity` times a body. Common keys are short.
    static let maxNameBytes = 256

    private let lock = NSLock()
    private var steps: [ByteKey: [UInt8]] = [:]

    func step(for name: ByteKey) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return steps[name]
    }

    func keep(_ step: [UInt8], for name: ByteKey) {
        guard name.bytes.count <= Self.maxNameBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        if steps.count < Self.capacity { steps[name] = step }
    }
}
