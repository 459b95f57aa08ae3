// Over 500 lines: opening, appending and checkpointing all work on the writer's private file and chain state.
import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns the files and the chain state. Used only from the writer thread of ``AuditLog``, so it needs no locking.
///
/// Every append is one `write` of whole lines followed by one `fsync`: a batch of concurrent records costs a single
/// fsync (group commit). A failed write is cut back to the last durable size so the file never keeps half a batch;
/// a failed fsync or cut stops the writer for good (what reached the disk is then unknown), and every later append
/// fails, so the proxy keeps answering 503 until it is restarted.
final class AuditWriter {
    let root: String
    let configuration: AuditConfiguration
    let signingKey: SigningKey?

    private var lockFile: POSIXFile?
    private var pack: ZeroFilledFile?
    private var packIndex = 0
    /// Where this session already stored each body, so repeated bodies are stored once; shared with callers.
    let storedBodies: StoredBodies
    private var file: ZeroFilledFile?
    private var fileIndex = 0
    private var needsNewFile = false
    private(set) var nextSeq = 1
    private(set) var head = ChainLine.genesisDigest
    /// The lines of the batch being written, kept between batches for its capacity.
    private var lineBuffer: [UInt8] = []
    private var unsignedRecords = 0
    /// The JSON-lines copy for shippers, if configured, and how much of `lineBuffer` (its decision and outcome lines,
    /// not its checkpoint) is durable and waits for it.
    private let stream: DecisionStream?
    private var streamPending = 0
    private var lastCheckpoint = ContinuousClock.now
    private(set) var failure: AuditError?
    var statistics = AuditStatistics()

    init(configuration: AuditConfiguration, signingKey: SigningKey?, storedBodies: StoredBodies = StoredBodies()) {
        self.configuration = configuration
        self.storedBodies = storedBodies
        self.root = configuration.directory.standardizedFileURL.path
        self.signingKey = signingKey
        self.stream = configuration.stream.map(DecisionStream.init)
    }

    // MARK: Opening and recovery

    /// Creates or reopens the log: takes the lock, finds the chain head, sets a torn last line aside and records
    /// a recovery event when the previous writer did not shut down cleanly.
    // Over 80 lines: opening is one ordered sequence (lock, head, torn tail, recovery record) over shared state.
    func start() throws(AuditError) {
        try makeDirectories(root)
        let lock = try POSIXFile.open("\(root)/\(LogFiles.lockName)", flags: O_RDWR | O_CREAT)
        // A lock can outlive its holder briefly: a child process forked (but not yet exec'd) by the previous holder
        // shares the lock until its exec closes the descriptor. Wait a little before calling the log busy.
        let deadline = ContinuousClock.now.advanced(by: .seconds(2))
        var locked = flock(lock.descriptor, LOCK_EX | LOCK_NB) == 0
        while !locked && errno == EWOULDBLOCK && ContinuousClock.now < deadline {
            usleep(10_000)
            locked = flock(lock.descriptor, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            let failure = errno
            lock.close()
            if failure == EWOULDBLOCK {
                throw AuditError(
                    .inUse,
                    "\(root) is already open in another airlock process (it holds \(LogFiles.lockName))"
                )
            }
            throw AuditError.posix(.unwritable, "cannot lock", path: "\(root)/\(LogFiles.lockName)", errno: failure)
        }
        lockFile = lock
        try stream?.start()

        let files = try LogFiles.list(root)
        guard let last = files.last else {
            try openNewFile(index: 1)
            return
        }
        fileIndex = last.index
        let path = "\(root)/\(last.name)"
        let current = try POSIXFile.open(path, flags: O_RDWR, operations: configuration.fileOperations)
        file = ZeroFilledFile(current)
        var contents = try current.readAll()

        // Zeros past the last line are the unused part of the zero-filled tail; non-zero bytes there are a torn
        // write.
        var torn: (bytes: Int, sha256: String, kept: String)?
        let (lineEnd, dataEnd) = LogFiles.extent(of: contents)
        if dataEnd > lineEnd {
            let tail = Array(contents[lineEnd..<dataEnd])
            let kept = try keepAside(tail, from: last.name, offset: lineEnd)
            torn = (tail.count, SHA256.hex(tail), kept)
        }
        if lineEnd < contents.count {
            try current.truncate(to: lineEnd)
            try current.sync()
            contents.removeSubrange(lineEnd...)
        }
        file = ZeroFilledFile(current, size: lineEnd)

        // The chain head is the last line of the newest file that has one.
        var lastLine = Self.lastLine(of: contents)
        var lineSource = last.name
        for earlier in files.dropLast().reversed() where lastLine == nil {
            lastLine = Self.lastLine(of: try POSIXFile.readFile("\(root)/\(earlier.name)"))
            lineSource = earlier.name
        }
        var cleanShutdown = true
        if let lastLine {
            let entry = try Self.decodeVerified(lastLine, source: lineSource)
            nextSeq = entry.seq + 1
            guard let hash = SHA256Digest(hex: entry.hash) else {
                throw AuditError(.corrupt, "the last record in \(lineSource) has no valid hash")
            }
            head = hash
            cleanShutdown = entry.event == .checkpoint && entry.reason == CheckpointReason.shutdown.rawValue
            if entry.event == .checkpoint, entry.reason == CheckpointReason.rotate.rawValue, lineSource == last.name {
                // The previous writer stopped between closing this file and creating the next one.
                try openNewFile(index: fileIndex + 1)
            }
        }
        if torn != nil || (lastLine != nil && !cleanShutdown) {
            let line = RecordEncoding.recovery(
                seq: nextSeq,
                time: RFC3339.now(),
                reason: torn == nil ? "unclean shutdown" : "unclean shutdown, torn last line set aside",
                afterSeq: nextSeq - 1,
                tornBytes: torn?.bytes,
                tornSHA256: torn?.sha256,
                kept: torn?.kept,
                replica: configuration.replica
            )
            let sealed = ChainLine.seal(line, prev: head)
            try appendDurably(sealed.line)
            nextSeq += 1
            head = sealed.hash
            unsignedRecords += 1
            statistics.recoveries += 1
            // The crashed session's last records were never signed: sign them, with the recovery event, before
            // anything new is appended, so no unsigned stretch waits for traffic (or for ever, if none comes).
            try writeCheckpoint(reason: .recovery)
        }
    }

    /// Opens a body pack for appending, creating `bodies/` if needed: a new pack for the first body of a writer
    /// session, and the next one when the current pack reached the rotation size or could not be written. Packs are
    /// zero-filled ahead of their members like the log, and zeros cannot be told from the last bytes of a member,
    /// so a session never appends to a pack an earlier session wrote.
    /// - Returns: where the next member starts in the pack.
    private func ensurePack() throws(AuditError) -> Int {
        if let pack, pack.size < configuration.rotateBytes { return pack.size }
        let directory = "\(root)/\(BodyStore.directory)"
        if try POSIXFile.makeDirectory(directory) { try POSIXFile.syncDirectory(root) }
        if pack == nil {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            packIndex = max(packIndex, names.compactMap(BodyStore.packIndex(of:)).max() ?? 0)
        }
        let next = packIndex + 1
        let created = try ZeroFilledFile.create(
            BodyStore.packName(index: next),
            in: directory,
            operations: configuration.fileOperations
        )
        pack?.trim()
        pack?.close()
        pack = created
        packIndex = next
        return 0
    }

    private func makeDirectories(_ path: String) throws(AuditError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw AuditError(.unwritable, "the audit directory \(path) exists and is not a directory")
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makeDirectories(parent) }
        if try POSIXFile.makeDirectory(path), !parent.isEmpty { try POSIXFile.syncDirectory(parent) }
    }

    private func keepAside(_ tail: [UInt8], from name: String, offset: Int) throws(AuditError) -> String {
        let directory = "\(root)/\(LogFiles.tornDirectory)"
        if try POSIXFile.makeDirectory(directory) { try POSIXFile.syncDirectory(root) }
        let relative = "\(LogFiles.tornDirectory)/\(name).\(offset).\(Int(Date().timeIntervalSince1970)).torn"
        let kept = try POSIXFile.open("\(root)/\(relative)", flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        defer { kept.close() }
        try kept.write(tail)
        try kept.sync()
        try POSIXFile.syncDirectory(directory)
        return relative
    }

    /// The last complete line of a log file (without its newline), ignoring a zero-filled or torn tail.
    static func lastLine(of contents: [UInt8]) -> ArraySlice<UInt8>? {
        let end = LogFiles.extent(of: contents).lineEnd
        guard end > 0 else { return nil }
        let body = contents[..<(end - 1)]
        let start = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
        return body[start...]
    }

    static func decodeVerified(_ line: ArraySlice<UInt8>, source: String) throws(AuditError) -> AuditEntry {
        guard let (canonical, hash) = ChainLine.unseal(line), SHA256.hex(canonical) == hash else {
            throw AuditError(
                .corrupt,
                "the last record in \(source) does not match its hash: run `airlock log verify` before reopening"
            )
        }
        do {
            return try JSONDecoder().decode(AuditEntry.self, from: Data(line))
        } catch {
            throw AuditError(.corrupt, "the last record in \(source) is not a valid audit record")
        }
    }

    private func openNewFile(index: Int) throws(AuditError) {
        let created = try ZeroFilledFile.create(
            LogFiles.name(index: index),
            in: root,
            operations: configuration.fileOperations
        )
        file?.close()
        file = created
        fileIndex = index
        needsNewFile = false
    }

    /// The descriptor of the current file, for fault-injection tests only (read while the writer is idle).
    var descriptorForTesting: Int32? { file?.file.descriptor }

    /// The current body pack's descriptor, for fault-injection tests only (read while the writer is idle).
    var packDescriptorForTesting: Int32? { pack?.file.descriptor }

    // MARK: Appending

    /// Writes the batch as one `write` and one `fsync` (plus one of each for the body pack when the batch brings new
    /// bodies); returns per record its place in the chain or why it failed, and the time written in the records.
    // Over 80 lines: encode, pack bodies, write, sync and undo on failure share one buffer and must run in order.
    func process(_ batch: StagedBatch) -> (results: [StagedResult], time: String) {
        let time = RFC3339.now()
        let records = batch.records
        if let failure { return (records.map { _ in .failed(failure) }, time) }
        if needsNewFile {
            do { try openNewFile(index: fileIndex + 1) } catch { return (records.map { _ in .failed(error) }, time) }
        }
        var failed = [AuditError?](repeating: nil, count: records.count)

        // Bodies first: a record never points at a body that is not durable. New bodies of the batch go into the
        // pack in one write and one fsync.
        var references: [SHA256Digest: String] = [:]
        var newBodies = 0
        var packBuffer: [UInt8] = []
        var packStart = 0
        do {
            for index in records.indices {
                guard let body = records[index].body, let compressed = body.compressed, references[body.sha256] == nil
                else { continue }
                if let known = storedBodies.reference(for: body.sha256) {
                    references[body.sha256] = known
                    continue
                }
                if packBuffer.isEmpty { packStart = try ensurePack() }
                let reference = BodyStore.Reference(
                    pack: BodyStore.packName(index: packIndex),
                    offset: packStart + packBuffer.count,
                    length: compressed.count
                )
                references[body.sha256] = reference.text
                packBuffer.append(contentsOf: compressed)
                newBodies += 1
            }
            if !packBuffer.isEmpty { try appendToPack(packBuffer) }
        } catch {
            // Every record with a body to store fails, not only those reached before the error.
            for index in records.indices where records[index].body?.compressed != nil {
                failed[index] = error
            }
            references.removeAll()
            newBodies = 0
        }
        if let failure { return (records.map { _ in .failed(failure) }, time) }
        if newBodies > 0 {
            storedBodies.add(references)
            statistics.bodiesStored += newBodies
        }

        let startSeq = nextSeq
        let startHead = head
        let startUnsigned = unsignedRecords
        var buffer: [UInt8] = []
        swap(&buffer, &lineBuffer)
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(records.count * 640 + 1024)
        var results = [StagedResult]()
        results.reserveCapacity(records.count)
        var written = 0
        batch.bytes.withUnsafeBufferPointer { bytes in
            for index in records.indices {
                if let error = failed[index] {
                    results.append(.failed(error))
                    continue
                }
                // The line is built at the end of the batch's buffer and hashed where it lies: no copy per record.
                var line = JSONLine(continuing: &buffer)
                let lineStart = line.count - 1
                let members = records[index].members
                switch records[index].kind {
                case .decision:
                    RecordEncoding.appendHeader(
                        to: &line,
                        "decision",
                        seq: nextSeq,
                        time: time,
                        replica: configuration.replica
                    )
                    // Bodies the callers found already stored (durable since an earlier batch) needed no write.
                    let body = records[index].body.flatMap { $0.storedAt ?? references[$0.sha256] }
                    let bodyIndex = records[index].bodyIndex
                    RecordEncoding.appendDecision(
                        to: &line,
                        members: bytes[members.lowerBound..<bodyIndex],
                        body: body,
                        after: bytes[bodyIndex..<members.upperBound]
                    )
                case .outcome:
                    RecordEncoding.appendHeader(
                        to: &line,
                        "outcome",
                        seq: nextSeq,
                        time: time,
                        replica: configuration.replica
                    )
                    line.members(bytes[members])
                }
                let hash = line.seal(prev: head, lineStart: lineStart)
                line.release(into: &buffer)
                results.append(.written(seq: nextSeq, hash: hash))
                head = hash
                nextSeq += 1
                written += 1
            }
        }
        unsignedRecords += written
        let recordsEnd = buffer.count
        var checkpoints = 0
        if unsignedRecords >= configuration.checkpointEvery || (unsignedRecords > 0 && checkpointIsDue) {
            do {
                let reason: CheckpointReason = unsignedRecords >= configuration.checkpointEvery ? .count : .interval
                buffer.append(contentsOf: try checkpointLine(reason: reason))
                checkpoints = 1
            } catch {
                // An unsigned stretch is only delayed, not lost: the next batch tries again.
                checkpoints = 0
            }
        }
        defer { lineBuffer = buffer }
        guard !buffer.isEmpty else { return (results, time) }
        do {
            try appendDurably(buffer)
        } catch {
            nextSeq = startSeq
            head = startHead
            unsignedRecords = startUnsigned
            return (records.map { _ in .failed(error) }, time)
        }
        statistics.records += written
        streamPending = recordsEnd
        if checkpoints > 0 { markCheckpointed() }
        if let file, file.size >= configuration.rotateBytes { rotate() }
        return (results, time)
    }

    /// Copies the last batch's durable decision and outcome lines to the stream (after their callers were answered:
    /// the stream never delays a request).
    /// Returns whether anything was copied.
    func publishStream() -> Bool {
        guard let stream, streamPending > 0 else { return false }
        stream.append(lineBuffer[..<streamPending])
        streamPending = 0
        statistics.streamLines = stream.linesWritten
        statistics.streamFailures = stream.failures
        return true
    }

    /// Called when the writer thread wakes with nothing queued.
    func checkpointIfDue() {
        guard failure == nil, unsignedRecords > 0, checkpointIsDue else { return }
        _ = try? writeCheckpoint(reason: .interval)
    }

    /// When the next time-based checkpoint is due, if records are waiting for one.
    var checkpointDeadline: ContinuousClock.Instant? {
        guard failure == nil, unsignedRecords > 0 else { return nil }
        return lastCheckpoint.advanced(by: .seconds(configuration.checkpointInterval))
    }

    /// How long a queued outcome that nobody waits on may wait for a decision's group commit to carry it.
    static let syncDelay = Duration.milliseconds(20)

    private var checkpointIsDue: Bool {
        ContinuousClock.now >= lastCheckpoint.advanced(by: .seconds(configuration.checkpointInterval))
    }

    /// Writes the final checkpoint and releases the files. Throws if the checkpoint could not be written; the files
    /// are released either way.
    func shutdown() throws(AuditError) {
        defer { release() }
        if let failure { throw failure }
        if needsNewFile { try openNewFile(index: fileIndex + 1) }
        try writeCheckpoint(reason: .shutdown)
        file?.trim()
        pack?.trim()
    }

    /// Releases the files without a final checkpoint, as a crash would.
    func release() {
        stream?.close()
        file?.close()
        file = nil
        pack?.close()
        pack = nil
        lockFile?.close()
        lockFile = nil
    }

    private func rotate() {
        do {
            try writeCheckpoint(reason: .rotate)
        } catch {
            return  // the file stays current; the next batch tries again
        }
        file?.trim()
        file?.close()
        file = nil
        needsNewFile = true
        statistics.rotations += 1
        try? openNewFile(index: fileIndex + 1)
    }

    private func writeCheckpoint(reason: CheckpointReason) throws(AuditError) {
        let startSeq = nextSeq
        let startHead = head
        let line = try checkpointLine(reason: reason)
        do {
            try appendDurably(line)
        } catch {
            nextSeq = startSeq
            head = startHead
            throw error
        }
        markCheckpointed()
    }

    private func markCheckpointed() {
        unsignedRecords = 0
        lastCheckpoint = .now
        statistics.checkpoints += 1
    }

    /// A sealed checkpoint line over the current head; advances the chain state.
    private func checkpointLine(reason: CheckpointReason) throws(AuditError) -> [UInt8] {
        let time = RFC3339.now()
        var signature: String?
        if let signingKey {
            let message = RecordEncoding.checkpointMessage(
                seq: nextSeq,
                time: time,
                reason: reason.rawValue,
                head: head.hex,
                count: nextSeq - 1
            )
            signature = Data(try signingKey.sign(message)).base64EncodedString()
        }
        let line = RecordEncoding.checkpoint(
            seq: nextSeq,
            time: time,
            reason: reason,
            head: head.hex,
            keyID: signingKey?.keyID,
            signature: signature,
            replica: configuration.replica
        )
        let sealed = ChainLine.seal(line, prev: head)
        nextSeq += 1
        head = sealed.hash
        return sealed.line
    }

    /// One write and one sync into the log file's zero-filled tail (``ZeroFilledFile/append(_:)``). A failed write
    /// is zeroed again so no partial line stays; a failed sync, or a failed write that cannot be zeroed, stops the
    /// writer.
    private func appendDurably(_ bytes: [UInt8]) throws(AuditError) {
        guard file != nil else {
            throw failure ?? AuditError(.closed, "no open audit file in \(root)")
        }
        do {
            try file?.append(bytes)
        } catch {
            switch error {
            case .notWritten(let error):
                throw error
            case .partlyWritten(let error, let zeroing):
                let message = "\(error.message); zeroing the partial write again also failed: \(zeroing.message)"
                stop(AuditError(.writeFailed, message))
                throw error
            case .notSynced(let error):
                stop(error)
                throw error
            }
        }
        statistics.logSyncs += 1
    }

    /// One write and one sync to the body pack, like the log's. A partial member that no record points at is
    /// harmless; if it cannot be zeroed again, the next member could not start where it did, so the pack is left
    /// for a new one (`ensurePack`). A failed sync stops the writer.
    private func appendToPack(_ bytes: [UInt8]) throws(AuditError) {
        guard pack != nil else { throw AuditError(.closed, "no open body pack in \(root)") }
        do {
            try pack?.append(bytes)
        } catch {
            switch error {
            case .notWritten(let error):
                throw error
            case .partlyWritten(let error, _):
                pack?.close()
                pack = nil
                throw error
            case .notSynced(let error):
                stop(error)
                throw error
            }
        }
    }

    private func stop(_ error: AuditError) {
        failure = AuditError(
            .closed,
            "the audit log stopped after an unrecoverable failure (\(error.message)); restart airlock"
        )
    }
}
