import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension AuditLogReader {
    /// Reads the stored forwarded body of every decision in `decisions` that has one, checks it against its hash and
    /// hands it to `visit`, on `workers` threads at once. A body several decisions share is read and visited once;
    /// its result is given to each of them.
    ///
    /// Memory stays bounded: each worker holds one body (compressed and decompressed) at a time.
    ///
    /// - Returns: per decision (same order), `visit`'s result, or nil when the decision has no stored body.
    /// - Throws: `.corrupt` naming the decision (seq and request id) whose stored body is missing, truncated or
    ///   no longer hashes to its `forwarded_sha256`; the first such failure stops the scan.
    public func scanStoredBodies<Result: Sendable>(
        of decisions: [AuditEntry],
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        visit: @Sendable (AuditEntry, UnsafeBufferPointer<UInt8>) -> Result
    ) throws(AuditError) -> [Result?] {
        var firstByLocation: [String: Int] = [:]
        var work: [Int] = []
        var owner = [Int](repeating: -1, count: decisions.count)
        for (index, entry) in decisions.enumerated() {
            guard entry.forwardedSHA256 != nil, let location = entry.body else { continue }
            if let first = firstByLocation[location] {
                owner[index] = first
            } else {
                firstByLocation[location] = index
                owner[index] = index
                work.append(index)
            }
        }
        let root = self.root
        let bodies = work
        let state = BodyScanState<Result>(count: decisions.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, bodies.count))) { _ in
            while let next = state.take(limit: bodies.count) {
                let entry = decisions[bodies[next]]
                guard let sha256 = entry.forwardedSHA256, let location = entry.body else { continue }
                do throws(AuditError) {
                    let body = try BodyStore.read(root: root, reference: location, sha256: sha256)
                    let result = body.withUnsafeBufferPointer { visit(entry, $0) }
                    state.store(result, at: bodies[next])
                } catch {
                    state.fail(
                        AuditError(
                            .corrupt,
                            "seq \(entry.seq), request \(entry.id ?? "?"): \(error.message)"
                        )
                    )
                }
            }
        }
        if let failure = state.failure { throw failure }
        let results = state.results
        return owner.map { $0 >= 0 ? results[$0] : nil }
    }
}

/// The shared state of one `scanStoredBodies`: the next body to take, the results, the first failure. Thread-safe.
private final class BodyScanState<Result: Sendable>: @unchecked Sendable {
    // `@unchecked`: every member is only touched under `lock`.
    private let lock = NSLock()
    private var next = 0
    private var stored: [Result?]
    private var firstFailure: AuditError?

    init(count: Int) {
        stored = Array(repeating: nil, count: count)
    }

    /// The next index to work on, or nil when all are taken or the scan failed.
    func take(limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard firstFailure == nil, next < limit else { return nil }
        next += 1
        return next - 1
    }

    func store(_ result: Result, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        stored[index] = result
    }

    func fail(_ error: AuditError) {
        lock.lock()
        defer { lock.unlock() }
        if firstFailure == nil { firstFailure = error }
    }

    var failure: AuditError? {
        lock.lock()
        defer { lock.unlock() }
        return firstFailure
    }

    var results: [Result?] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
