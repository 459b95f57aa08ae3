import AirlockSupport
import Foundation

/// The append-only, hash-chained, signed egress log.
///
/// All file work happens on one dedicated writer thread (never on Swift's cooperative pool, since fsync blocks).
/// Appends from any number of tasks queue up while the previous fsync runs and are then written and fsync'd together:
/// one fsync per batch, not per record (group commit; see ``statistics``). Under concurrent load the writer also waits
/// out a short window (``AuditConfiguration/commitDelay``) so that each fsync serves more records: fewer fsyncs and
/// wake-ups per request, for up to that much latency. Outcomes that nobody waits for do not wake the writer: they
/// ride the next decision's commit, or are committed on their own at most ``AuditWriter/syncDelay`` after they were
/// queued.
///
/// Lifecycle: ``open(_:)`` → ``recordDecision(_:forwardedBody:)`` / ``recordOutcome(id:status:durationMs:error:)``
/// from any task → ``close()`` once. A second process cannot open the same directory while this one holds it.
public final class AuditLog: @unchecked Sendable {
    // `@unchecked`: `staged`, `spare`, `urgentQueued`, `firstUrgentAt`, `delaying`, `groupAverage`, `lazySince`,
    // `writerWaitsLong`, `lazyDelay`, `closing`, `accepting` and `published` are only touched under `condition`; the
    // writer is only touched by the writer thread.
    private let condition = NSCondition()
    /// What is queued for the writer's next batch.
    private var staged = StagedBatch()
    /// An emptied batch the writer handed back, swapped in when it takes `staged`: queues keep their capacity.
    private var spare = StagedBatch()
    /// Queued items someone waits on to be durable (decisions, awaited outcomes): each wakes the writer.
    private var urgentQueued = 0
    /// When the oldest queued item that nobody waits on (a promise-completed outcome) was queued, if any.
    private var lazySince: ContinuousClock.Instant?
    /// True while the writer sleeps with no deadline sooner than a lazy item's: only then must a lazy item wake it.
    private var writerWaitsLong = false
    /// How long a lazy item may wait for a decision to ride with (``setLazyDelayForTesting(_:)``).
    private var lazyDelay = AuditWriter.syncDelay
    /// When the first of the queued items someone waits on was queued: the group-commit window counts from there.
    private var firstUrgentAt: ContinuousClock.Instant?
    /// True while the writer waits out the group-commit window: only a full group (`commitBatch`) wakes it early.
    private var delaying = false
    /// Running average of how many waited-on records recent commits carried: the window only applies under
    /// concurrent load.
    private var groupAverage = 0.0
    private var closing: CloseRequest?
    private var accepting = true
    private var published = AuditStatistics()
    private let writer: AuditWriter

    public let configuration: AuditConfiguration
    /// `key_id` of the signing key, or nil when checkpoints are unsigned.
    public let keyID: String?

    private enum CloseRequest {
        case shutdown(CheckedContinuation<Result<Void, AuditError>, Never>)
        case crash(CheckedContinuation<Result<Void, AuditError>, Never>)
    }

    private init(configuration: AuditConfiguration, writer: AuditWriter) {
        self.configuration = configuration
        self.writer = writer
        self.keyID = writer.signingKey?.keyID
    }

    /// Opens (creating if needed) the log in `configuration.directory`. A torn last line left by a crash is moved
    /// to `torn/` and a `recovery` event is chained in its place, so the log verifies again.
    public static func open(_ configuration: AuditConfiguration) async throws(AuditError) -> AuditLog {
        try await Self.open(configuration, maximumCommitDelay: AuditConfiguration.maximumCommitDelay)
    }

    /// `open` with another bound on the commit window: tests use windows far longer than any fsync can take on a
    /// loaded machine, so what they observe cannot be mistaken for a slow disk.
    static func open(
        _ configuration: AuditConfiguration,
        maximumCommitDelay: Duration
    ) async throws(AuditError) -> AuditLog {
        let configuration = try configuration.validated(maximumCommitDelay: maximumCommitDelay)
        var signingKey: SigningKey?
        if let path = configuration.signingKeyPath { signingKey = try SigningKey(path: path) }
        let log = AuditLog(
            configuration: configuration,
            writer: AuditWriter(configuration: configuration, signingKey: signingKey)
        )
        let started = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, AuditError>, Never>) in
            let thread = Thread { log.run(started: continuation) }
            thread.name = "airlock-audit"
            thread.start()
        }
        try started.get()
        return log
    }

    /// Records what the proxy decided, and stores `forwardedBody` (the bytes as they will leave, after redaction)
    /// when bodies are stored. Returns once the record — and the body — are durable (fsync'd).
    ///
    /// The proxy forwards only after this returns; if it throws, the proxy answers 503 and sends nothing.
    /// `forwardedBody` is nil for requests that are not forwarded.
    public func recordDecision(
        _ record: DecisionRecord,
        forwardedBody: [UInt8]?
    ) async throws(AuditError)
        -> AuditReceipt
    {
        let result = await withCheckedContinuation { continuation in
            let completion = { @Sendable (result: Result<AuditReceipt, AuditError>) in
                continuation.resume(returning: result)
            }
            guard let forwardedBody else {
                submitDecision(record, forwardedBodyBytes: nil) {
                    .receipt(id: record.id, forwardedSHA256: $0, completion)
                }
                return
            }
            forwardedBody.withUnsafeBytes { bytes in
                submitDecision(record, forwardedBodyBytes: bytes) {
                    .receipt(id: record.id, forwardedSHA256: $0, completion)
                }
            }
        }
        return try result.get()
    }

    /// Same contract as the async ``recordDecision(_:forwardedBody:)``, for a body the caller holds in its own
    /// buffer, with the result passed to `completion` once the record and its body are durable (or could not be made
    /// so). The bytes are only read during the call (hashed, and compressed when new), never kept, so no copy is made.
    /// `completion` runs on the writer thread (or, for a refused call, on the caller's), so it must be quick and must
    /// not block — completing an event loop promise is the intended use. `forwardedBodyBytes` is nil for requests
    /// that are not forwarded.
    public func recordDecision(
        _ record: DecisionRecord,
        forwardedBodyBytes: UnsafeRawBufferPointer?,
        completion: @escaping @Sendable (Result<Void, AuditError>) -> Void
    ) {
        submitDecision(record, forwardedBodyBytes: forwardedBodyBytes) { _ in .durable(completion) }
    }

    /// Hashes (and compresses, when new and stored) the body on the calling thread, in parallel across callers, so
    /// the writer thread only writes; encodes the record and queues it. `completion` makes the writer's completion
    /// from the body's SHA-256 hex.
    private func submitDecision(
        _ record: DecisionRecord,
        forwardedBodyBytes: UnsafeRawBufferPointer?,
        completion makeCompletion: (String?) -> StagedCompletion
    ) {
        guard !record.id.isEmpty else {
            fail(makeCompletion(nil), AuditError(.invalidArgument, "a decision record needs a request id"))
            return
        }
        var record = record
        var body: PreparedBody?
        if let forwardedBodyBytes {
            let sha256 = SHA256Digest(hashing: forwardedBodyBytes)
            record.forwardedBytes = forwardedBodyBytes.count
            record.forwardedSHA256 = sha256.hex
            if !configuration.storeBodies {
                body = PreparedBody(sha256: sha256, compressed: nil)
            } else if let storedAt = writer.storedBodies.reference(for: sha256) {
                // The same bytes are already durable in a pack: no need to compress them again.
                body = PreparedBody(sha256: sha256, compressed: nil, storedAt: storedAt)
            } else {
                body = PreparedBody(sha256: sha256, compressed: BodyStore.gzip(forwardedBodyBytes))
            }
        } else {
            record.forwardedBytes = nil
            record.forwardedSHA256 = nil
        }
        let encoded = EncodedDecision(record)
        enqueue(
            .decision,
            members: encoded.members,
            bodyIndex: encoded.bodyIndex,
            body: body,
            needsSync: true,
            completion: makeCompletion(record.forwardedSHA256)
        )
    }

    /// Records the vendor's answer to a forwarded request (or why there was none), linked to its decision by `id`.
    /// Durable before it returns.
    public func recordOutcome(id: String, status: Int?, durationMs: Double, error: String?) async throws(AuditError) {
        let members = RecordEncoding.outcomeMembers(id: id, status: status, durationMs: durationMs, error: error)
        let result = await withCheckedContinuation { continuation in
            enqueue(
                .outcome,
                members: members,
                needsSync: true,
                completion: .durable { continuation.resume(returning: $0) }
            )
        }
        try result.get()
    }

    /// Records an outcome without forcing a commit of its own: it is written and made durable with the next decision's
    /// group commit, or on its own at most ``AuditWriter/syncDelay`` after it was queued when no decision comes, and
    /// never after a later record. `completion` runs (on the writer thread) once it is durable, or with the reason it
    /// could not be; it must be quick and must not block.
    public func recordOutcome(
        id: String,
        status: Int?,
        durationMs: Double,
        error: String?,
        completion: @escaping @Sendable (Result<Void, AuditError>) -> Void
    ) {
        enqueue(
            .outcome,
            members: RecordEncoding.outcomeMembers(id: id, status: status, durationMs: durationMs, error: error),
            needsSync: false,
            completion: .durable(completion)
        )
    }

    /// Writes what is queued, then a final signed checkpoint, and releases the directory. Later appends throw
    /// ``AuditError/Code-swift.struct/closed``.
    public func close() async throws {
        try await stop { .shutdown($0) }
    }

    /// Stops the writer without a final checkpoint, as if the process had been killed; for crash-recovery tests.
    func simulateCrash() async throws {
        try await stop { .crash($0) }
    }

    /// The current log file's descriptor, so tests can make it fail (`dup2` of a read-only descriptor over it).
    /// Only meaningful while no append is in flight.
    var descriptorForTesting: Int32? { writer.descriptorForTesting }

    /// The current body pack's descriptor, for the same kind of fault injection. Only meaningful while idle.
    var packDescriptorForTesting: Int32? { writer.packDescriptorForTesting }

    /// Makes the writer behave as if recent commits had carried `average` records each, so tests can put it under
    /// (or out of) load without racing real traffic.
    func setGroupAverageForTesting(_ average: Double) {
        condition.lock()
        groupAverage = average
        condition.unlock()
    }

    /// Lengthens how long a lazy item may wait for a decision to ride with, so tests can make batches deterministic.
    func setLazyDelayForTesting(_ delay: Duration) {
        precondition(delay <= .seconds(60), "a lazy item must become durable within bounded time")
        condition.lock()
        lazyDelay = delay
        condition.unlock()
    }

    /// Counters of what the writer has done so far.
    public var statistics: AuditStatistics {
        condition.lock()
        defer { condition.unlock() }
        return published
    }

    // MARK: Queue

    private func enqueue(
        _ kind: StagedRecord.Kind,
        members: [UInt8],
        bodyIndex: Int = 0,
        body: PreparedBody? = nil,
        needsSync: Bool,
        completion: StagedCompletion
    ) {
        condition.lock()
        guard accepting else {
            condition.unlock()
            fail(completion, AuditError(.closed, "the audit log in \(writer.root) is closed"))
            return
        }
        staged.append(
            kind,
            members: members,
            bodyIndex: bodyIndex,
            body: body,
            needsSync: needsSync,
            completion: completion
        )
        if needsSync {
            urgentQueued += 1
            if urgentQueued == 1 { firstUrgentAt = .now }
            // A writer waiting out the commit window is woken only by a full group; otherwise it commits at the
            // window's end, once for the whole group.
            if !delaying || urgentQueued >= configuration.commitBatch { condition.signal() }
        } else {
            if lazySince == nil { lazySince = .now }
            // A writer asleep until a later deadline (or none) must wake to take this one's into account.
            if writerWaitsLong {
                writerWaitsLong = false
                condition.signal()
            }
        }
        condition.unlock()
    }

    private func fail(_ completion: StagedCompletion, _ error: AuditError) {
        switch completion {
        case .durable(let completion): completion(.failure(error))
        case .receipt(_, _, let completion): completion(.failure(error))
        }
    }

    /// Tells each record's caller what became of it (on the writer thread).
    private func complete(_ records: [StagedRecord], _ results: [StagedResult], time: String) {
        for index in records.indices {
            switch (records[index].completion, results[index]) {
            case (.durable(let completion), .written):
                completion(.success(()))
            case (.receipt(let id, let forwardedSHA256, let completion), .written(let seq, let hash)):
                completion(
                    .success(
                        AuditReceipt(id: id, seq: seq, hash: hash.hex, forwardedSHA256: forwardedSHA256, time: time)
                    )
                )
            case (let completion, .failed(let error)):
                fail(completion, error)
            }
        }
    }

    private func stop(
        _ request: (CheckedContinuation<Result<Void, AuditError>, Never>) -> CloseRequest
    ) async throws(AuditError) {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, AuditError>, Never>) in
            condition.lock()
            guard accepting else {
                condition.unlock()
                continuation.resume(returning: .failure(AuditError(.closed, "the audit log is already closed")))
                return
            }
            accepting = false
            closing = request(continuation)
            condition.signal()
            condition.unlock()
        }
        try result.get()
    }

    // MARK: Writer thread

    // Over 80 lines: the writer thread's loop (gather, wait, commit, answer) keeps its group state in locals.
    private func run(started: CheckedContinuation<Result<Void, AuditError>, Never>) {
        do {
            try writer.start()
        } catch {
            writer.release()
            condition.lock()
            accepting = false
            condition.unlock()
            started.resume(returning: .failure(error))
            return
        }
        publish()
        started.resume(returning: .success(()))

        while true {
            condition.lock()
            // Under load, the next group gathers while the writer sleeps out one window, instead of the writer
            // waking for its first record and then waiting out the window: one wake-up per group, and no signal for
            // the event loops to send.
            var gathered = false
            if urgentQueued == 0, closing == nil, isUnderLoad {
                waitForGroup(until: ContinuousClock.now.advanced(by: configuration.commitDelay))
                gathered = urgentQueued > 0
                if !gathered { groupAverage *= 0.75 }  // a window without records: the load is fading
            }
            // Sleep until someone waits on a record, or until a deadline: a checkpoint or the commit of queued lazy
            // items.
            while urgentQueued == 0 && closing == nil {
                let lazyDeadline = lazySince.map { $0.advanced(by: lazyDelay) }
                let deadlines = [writer.checkpointDeadline, lazyDeadline].compactMap { $0 }
                let now = ContinuousClock.now
                guard let deadline = deadlines.min() else {
                    writerWaitsLong = true
                    condition.wait()
                    writerWaitsLong = false
                    continue
                }
                let wait = now.duration(to: deadline)
                if wait <= .zero { break }
                writerWaitsLong = lazyDeadline == nil && wait > lazyDelay
                let signalled = condition.wait(until: Date(timeIntervalSinceNow: wait / .seconds(1)))
                writerWaitsLong = false
                if !signalled { break }
            }
            if !gathered { waitOutCommitWindow() }
            var batch = StagedBatch()
            swap(&batch, &staged)
            swap(&staged, &spare)
            let urgent = urgentQueued
            // Every batch is committed (written and fsync'd) now: lazy items taken without an urgent one are taken
            // because their time is up.
            urgentQueued = 0
            firstUrgentAt = nil
            if urgent > 0 { groupAverage = groupAverage * 0.75 + Double(urgent) * 0.25 }
            lazySince = nil
            let close = closing
            condition.unlock()

            if batch.isEmpty {
                writer.checkpointIfDue()
                publish()
            } else {
                let (results, time) = writer.process(batch)
                publish()
                complete(batch.records, results, time: time)
                if writer.publishStream() { publish() }
            }
            // The emptied batch becomes the next spare, its capacity kept.
            batch.removeAll()
            condition.lock()
            if spare.records.capacity < batch.records.capacity { swap(&spare, &batch) }
            condition.unlock()

            guard let close else { continue }
            switch close {
            case .shutdown(let continuation):
                let result: Result<Void, AuditError>
                do {
                    try writer.shutdown()
                    result = .success(())
                } catch {
                    result = .failure(error)
                }
                publish()
                continuation.resume(returning: result)
            case .crash(let continuation):
                writer.release()
                continuation.resume(returning: .success(()))
            }
            return
        }
    }

    /// Whether recent commits carried `commitSiblings` or more records each (under `condition`): only then does the
    /// group-commit window apply.
    private var isUnderLoad: Bool {
        configuration.commitDelay > .zero && groupAverage >= Double(configuration.commitSiblings)
    }

    /// Group commit under load (under `condition`): waits until `commitDelay` after the group's first record was
    /// queued, or until `commitBatch` records wait, so that one fsync serves more of them. Time the previous commit
    /// took counts towards the window. A lone request, or a closing log, never waits.
    private func waitOutCommitWindow() {
        guard closing == nil, urgentQueued > 0, isUnderLoad, let first = firstUrgentAt else { return }
        waitForGroup(until: first.advanced(by: configuration.commitDelay))
    }

    /// Sleeps (under `condition`) until `deadline`, until `commitBatch` records wait, or until the log closes;
    /// meanwhile queued records do not wake the writer.
    private func waitForGroup(until deadline: ContinuousClock.Instant) {
        delaying = true
        defer { delaying = false }
        while closing == nil, configuration.commitBatch > urgentQueued {
            let wait = ContinuousClock.now.duration(to: deadline)
            if wait <= .zero { return }
            _ = condition.wait(until: Date(timeIntervalSinceNow: wait / .seconds(1)))
        }
    }

    private func publish() {
        let snapshot = writer.statistics
        condition.lock()
        published = snapshot
        condition.unlock()
    }
}
