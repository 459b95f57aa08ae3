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
    /// Bodies a worker takes at a time: enough to read a pack front to back with one open file, few enough that the
    /// workers finish together.
    static let scanRun = 64

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
        var work: [(index: Int, reference: BodyStore.Reference)] = []
        var owner = [Int](repeating: -1, count: decisions.count)
        for (index, entry) in decisions.enumerated() {
            guard entry.forwardedSHA256 != nil, let location = entry.body else { continue }
            if let first = firstByLocation[location] {
                owner[index] = first
                continue
            }
            firstByLocation[location] = index
            owner[index] = index
            guard let reference = BodyStore.Reference(location) else {
                throw AuditError(
                    .corrupt,
                    "seq \(entry.seq), request \(entry.id ?? "?"): body reference '\(location)' is not PACK:OFFSET:LENGTH"
                )
            }
            work.append((index, reference))
        }
        // In pack order, so that a worker reads a run of bodies from one open pack, front to back.
        work.sort { ($0.reference.pack, $0.reference.offset) < ($1.reference.pack, $1.reference.offset) }
        let root = self.root
        let bodies = work
        let state = BodyScanState<Result>(count: decisions.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, bodies.count))) { _ in
            var open: (pack: String, file: POSIXFile)?
            defer { open?.file.close() }
            while let run = state.take(Self.scanRun, limit: bodies.count) {
                for next in run {
                    let (index, reference) = bodies[next]
                    let entry = decisions[index]
                    guard let sha256 = entry.forwardedSHA256 else { continue }
                    do throws(AuditError) {
                        if open?.pack != reference.pack {
                            open?.file.close()
                            open = nil
                            open = (reference.pack, try BodyStore.openPack(root: root, reference.pack))
                        }
                        guard let file = open?.file else { continue }
                        let body = try BodyStore.read(file, root: root, reference: reference, sha256: sha256)
                        let result = body.withUnsafeBufferPointer { visit(entry, $0) }
                        state.store(result, at: index)
                    } catch {
                        state.fail(
                            AuditError(.corrupt, "seq \(entry.seq), request \(entry.id ?? "?"): \(error.message)")
                        )
                        return
                    }
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

    /// The next run of at most `count` indices to work on, or nil when all are taken or the scan failed.
    func take(_ count: Int, limit: Int) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard firstFailure == nil, next < limit else { return nil }
        let run = next..<min(limit, next + count)
        next = run.upperBound
        return run
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
