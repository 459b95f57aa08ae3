import AirlockSupport
import Foundation

struct ChainWalk {
    let keys: [String: VerifyingKey]
    var summary = AuditVerification()
    var expectedSeq = 1
    var prev = ChainLine.genesis
    var last: AuditEntry?
    var sawSigned = false
    var sinceCheckpoint = 0
    let decoder = JSONDecoder()
    let checkBodies: Bool
    var root = ""
    var bodiesSeen = Set<String>()

    init(keys: [String: VerifyingKey], checkBodies: Bool) {
        self.keys = keys
        self.checkBodies = checkBodies
    }

    // Over 80 lines: the cross-file checks (order, gaps, the head, the live tail) read one running chain state.
    mutating func run(_ reader: AuditLogReader) throws {
        let files = try reader.files()
        guard let first = files.first else {
            throw AuditVerificationFailure(
                kind: .unreadable,
                seq: nil,
                file: nil,
                detail: "no audit-NNNNNN.jsonl files in \(reader.root)"
            )
        }
        root = reader.root
        let live = reader.isOpenByWriter()
        summary.openByWriter = live
        summary.files = files.count
        if first.index != 1 {
            throw AuditVerificationFailure(
                kind: .droppedFile,
                seq: 1,
                file: LogFiles.name(index: 1),
                detail: "\(LogFiles.name(index: 1)) is missing: the log starts at \(first.name)"
            )
        }
        var previousFile: (name: String, last: AuditEntry?)?
        for (position, file) in files.enumerated() {
            let isLast = position == files.count - 1
            if let previousFile {
                if file.index != files[position - 1].index + 1 {
                    throw AuditVerificationFailure(
                        kind: .droppedFile,
                        seq: expectedSeq,
                        file: LogFiles.name(index: files[position - 1].index + 1),
                        detail: "\(LogFiles.name(index: files[position - 1].index + 1)) is missing "
                            + "(records from seq \(expectedSeq) on, between \(previousFile.name) and \(file.name))"
                    )
                }
                guard let closing = previousFile.last else {
                    throw AuditVerificationFailure(
                        kind: .truncated,
                        seq: expectedSeq,
                        file: previousFile.name,
                        detail: "\(previousFile.name) is empty but is not the newest file"
                    )
                }
                guard closing.event == .checkpoint, closing.reason == CheckpointReason.rotate.rawValue else {
                    throw AuditVerificationFailure(
                        kind: .truncated,
                        seq: closing.seq + 1,
                        file: previousFile.name,
                        detail: "\(previousFile.name) ends at seq \(closing.seq) without its rotation checkpoint"
                    )
                }
            }
            let lines = try reader.read(file)
            let fileLast = try walk(lines)
            // While a writer holds the log, its last file may end in a write in progress. Zeros with data after
            // them are that only for an instant (this read can overtake the writer's copy); the writer never leaves
            // such a gap, so one still there a moment later is an edit hiding the records after it. Only that case
            // is worth waiting for: anywhere else a torn tail fails at once.
            if let torn = lines.tornTail,
                !(isLast && live
                    && (!lines.contents[torn].contains(0)
                        || AuditVerifier.gapFills(torn, of: "\(reader.root)/\(file.name)")))
            {
                throw AuditVerificationFailure(
                    kind: .truncated,
                    seq: expectedSeq,
                    file: file.name,
                    detail:
                        "\(file.name) ends in an incomplete line (\(torn.count) bytes): it was truncated, or airlock "
                        + "crashed mid-write (starting airlock again sets the line aside and records the recovery)"
                )
            }
            previousFile = (file.name, fileLast ?? nil)
            if fileLast != nil { last = fileLast }
        }

        guard let last else {
            if live { return }
            throw AuditVerificationFailure(
                kind: .truncated,
                seq: 1,
                file: first.name,
                detail: "the log has no records"
            )
        }
        if last.event == .checkpoint, last.reason == CheckpointReason.rotate.rawValue, !(previousFile?.last == nil) {
            let missing = LogFiles.name(index: (files.last?.index ?? 0) + 1)
            throw AuditVerificationFailure(
                kind: .droppedFile,
                seq: last.seq + 1,
                file: missing,
                detail: "the log ends with the rotation checkpoint seq \(last.seq) but \(missing) is missing "
                    + "(removed, or airlock stopped right after rotating: starting it again creates the file)"
            )
        }
        let cleanEnd = last.event == .checkpoint && last.reason == CheckpointReason.shutdown.rawValue
        if !cleanEnd {
            if live {
                summary.unsignedTail = sinceCheckpoint
            } else {
                throw AuditVerificationFailure(
                    kind: .truncated,
                    seq: last.seq + 1,
                    file: files.last?.name,
                    detail: "the log ends at seq \(last.seq) without a shutdown checkpoint: it was truncated, or "
                        + "airlock crashed (starting airlock again records the recovery)"
                )
            }
        }
    }

    /// Checks each complete line of one file; returns its last entry.
    // Over 80 lines: one check per way a line can be wrong, in the order the verifier reports them.
    private mutating func walk(_ file: AuditLogReader.FileLines) throws -> AuditEntry? {
        // Seqs present in this file, to tell a reordering from a deletion.
        var present = Set<Int>()
        var entries: [AuditEntry?] = []
        for number in file.lines.indices {
            let entry = try? decoder.decode(AuditEntry.self, from: Data(file.line(number)))
            entries.append(entry)
            if let entry { present.insert(entry.seq) }
        }
        var fileLast: AuditEntry?
        for number in file.lines.indices {
            let location = "\(file.name) line \(number + 1)"
            let line = file.line(number)
            guard let entry = entries[number], let (canonical, claimed) = ChainLine.unseal(line) else {
                throw AuditVerificationFailure(
                    kind: .edited,
                    seq: expectedSeq,
                    file: location,
                    detail: "the line is not an audit record"
                )
            }
            guard SHA256.hex(canonical) == claimed, entry.hash == claimed else {
                throw AuditVerificationFailure(
                    kind: .edited,
                    seq: entry.seq,
                    file: location,
                    detail: "its content no longer matches its hash"
                )
            }
            guard RecordEncoding.canonical(entry) == canonical else {
                throw AuditVerificationFailure(
                    kind: .edited,
                    seq: entry.seq,
                    file: location,
                    detail: "the record is not in canonical form (a member was added, repeated or reformatted)"
                )
            }
            if entry.seq != expectedSeq {
                if entry.seq < expectedSeq || present.contains(expectedSeq) {
                    throw AuditVerificationFailure(
                        kind: .reordered,
                        seq: entry.seq,
                        file: location,
                        detail: "found after seq \(expectedSeq - 1), where seq \(expectedSeq) belongs"
                    )
                }
                if number == 0 && expectedSeq > 1 {
                    throw AuditVerificationFailure(
                        kind: .droppedFile,
                        seq: expectedSeq,
                        file: location,
                        detail:
                            "\(file.name) starts at seq \(entry.seq); seq \(expectedSeq)-\(entry.seq - 1) are missing "
                            + "(a rotated file was removed and the rest renamed)"
                    )
                }
                throw AuditVerificationFailure(
                    kind: .deleted,
                    seq: expectedSeq,
                    file: location,
                    detail: "seq \(expectedSeq)\(entry.seq - 1 > expectedSeq ? "-\(entry.seq - 1)" : "") "
                        + "missing: seq \(entry.seq) follows seq \(expectedSeq - 1)"
                )
            }
            guard entry.prev == prev else {
                throw AuditVerificationFailure(
                    kind: .edited,
                    seq: entry.seq - 1,
                    file: location,
                    detail: "seq \(entry.seq)'s prev does not match the hash of seq \(entry.seq - 1): "
                        + "a record was rewritten with a recomputed hash"
                )
            }
            switch entry.event {
            case .decision:
                if checkBodies { try checkBody(entry) }
                summary.decisions += 1
                if summary.firstTime == nil { summary.firstTime = entry.time }
                summary.lastTime = entry.time
            case .outcome:
                summary.outcomes += 1
                summary.lastTime = entry.time
            case .recovery:
                summary.recoveries += 1
            case .checkpoint:
                try checkCheckpoint(entry, where: location)
            }
            sinceCheckpoint = entry.event == .checkpoint ? 0 : sinceCheckpoint + 1
            summary.records += 1
            summary.lastSeq = entry.seq
            prev = entry.hash
            expectedSeq += 1
            fileLast = entry
        }
        return fileLast
    }

    private mutating func checkBody(_ entry: AuditEntry) throws {
        guard let sha256 = entry.forwardedSHA256 else { return }
        guard let location = entry.body else {
            summary.bodiesMissing += 1
            return
        }
        guard bodiesSeen.insert(location).inserted else { return }
        do {
            _ = try BodyStore.read(root: root, reference: location, sha256: sha256)
            summary.bodiesChecked += 1
        } catch {
            throw AuditVerificationFailure(
                kind: .alteredBody,
                seq: entry.seq,
                file: "\(BodyStore.directory)/\(location)",
                detail: error.message
            )
        }
    }

    private mutating func checkCheckpoint(_ entry: AuditEntry, where location: String) throws {
        guard entry.head == entry.prev, entry.count == entry.seq - 1, let reason = entry.reason,
            CheckpointReason(rawValue: reason) != nil
        else {
            throw AuditVerificationFailure(
                kind: .forgedCheckpoint,
                seq: entry.seq,
                file: location,
                detail: "its head or count does not describe the records before it"
            )
        }
        summary.checkpoints += 1
        summary.checkpointedThrough = entry.seq - 1
        guard let signature = entry.signature, let keyID = entry.keyID else {
            if sawSigned || !keys.isEmpty {
                throw AuditVerificationFailure(
                    kind: .forgedCheckpoint,
                    seq: entry.seq,
                    file: location,
                    detail: "the checkpoint is unsigned, but the log is signed"
                )
            }
            return
        }
        sawSigned = true
        if keys.isEmpty {
            throw AuditVerificationFailure(
                kind: .noPublicKey,
                seq: entry.seq,
                file: location,
                detail: "checkpoints are signed by key_id \(keyID); pass --public-key with the audit public key "
                    + "(Certs/audit-signing.pub) to check them"
            )
        }
        guard let key = keys[keyID] else {
            throw AuditVerificationFailure(
                kind: .forgedCheckpoint,
                seq: entry.seq,
                file: location,
                detail: "signed by key_id \(keyID), which is not a given public key "
                    + "(\(keys.keys.sorted().joined(separator: ", ")))"
            )
        }
        let message = RecordEncoding.checkpointMessage(
            seq: entry.seq,
            time: entry.time,
            reason: reason,
            head: entry.prev,
            count: entry.seq - 1
        )
        guard let raw = Data(base64Encoded: signature), key.isValid(signature: Array(raw), for: message) else {
            throw AuditVerificationFailure(
                kind: .badSignature,
                seq: entry.seq,
                file: location,
                detail: "the Ed25519 signature does not match: the records up to seq \(entry.seq - 1) or the "
                    + "checkpoint were altered"
            )
        }
        summary.signedCheckpoints += 1
        summary.keyIDs.insert(keyID)
    }
}
