import Foundation

/// What a successful verification found.
public struct AuditVerification: Sendable, CustomStringConvertible {
    public var files = 0
    /// All chained lines: decisions, outcomes, checkpoints, recoveries.
    public var records = 0
    public var decisions = 0
    public var outcomes = 0
    public var checkpoints = 0
    public var signedCheckpoints = 0
    public var recoveries = 0
    public var keyIDs: Set<String> = []
    public var firstTime: String?
    public var lastTime: String?
    public var lastSeq = 0
    /// Records after the last checkpoint of a log that a writer still holds open; the next checkpoint signs them.
    public var unsignedTail = 0
    /// The last seq the last checkpoint covers (its `count`): every record up to it is pinned by that checkpoint
    /// (and, when signed, by its signature).
    public var checkpointedThrough = 0
    public var openByWriter = false
    /// With `checkBodies`: distinct stored bodies that hash to their names, and forwarded bodies with no stored copy
    /// (expected when `audit.store_bodies` is off).
    public var bodiesChecked = 0
    public var bodiesMissing = 0

    public var description: String {
        var text =
            "OK: \(records) records (\(decisions) decisions, \(outcomes) outcomes) "
            + "in \(files) file\(files == 1 ? "" : "s"), seq 1-\(lastSeq), "
            + "\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s")"
        if signedCheckpoints > 0 {
            text += " (\(signedCheckpoints) signed by key_id \(keyIDs.sorted().joined(separator: ", ")))"
        } else if checkpoints > 0 {
            text += " (unsigned: hash chain only)"
        }
        if recoveries > 0 { text += ", \(recoveries) recovery event\(recoveries == 1 ? "" : "s")" }
        if let firstTime, let lastTime { text += ", \(firstTime) .. \(lastTime)" }
        if bodiesChecked > 0 || bodiesMissing > 0 {
            text += ", \(bodiesChecked) stored bodies intact"
            if bodiesMissing > 0 { text += ", \(bodiesMissing) forwarded bodies not stored" }
        }
        if openByWriter {
            text +=
                "; open by a writer, \(unsignedTail) record\(unsignedTail == 1 ? "" : "s") after the last checkpoint"
                + " (it covers seq 1-\(checkpointedThrough))"
        }
        return text
    }
}

/// Why a log does not verify: the first bad record and what is wrong with it.
public struct AuditVerificationFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case edited
        case deleted
        case reordered
        case truncated
        case badSignature = "bad signature"
        case forgedCheckpoint = "forged checkpoint"
        case droppedFile = "dropped rotated file"
        case alteredBody = "altered body"
        case noPublicKey = "no public key"
        case unreadable
    }

    public var kind: Kind
    /// The first bad seq, when there is one.
    public var seq: Int?
    public var file: String?
    public var detail: String

    public var description: String {
        let place = seq.map { "seq \($0): " } ?? ""
        let location = file.map { " [\($0)]" } ?? ""
        return "\(place)\(kind.rawValue): \(detail)\(location)"
    }
}

/// Walks every file and checkpoint of a log: each line's hash over its canonical form, the `prev` links, the seq
/// order across rotated files, and each checkpoint's Ed25519 signature.
public enum AuditVerifier {
    /// Whether the bytes at `range` of the file at `path` are all written within a moment (a write in progress was
    /// overtaken by the read) rather than keeping a zero byte (an edit).
    static func gapFills(_ range: Range<Int>, of path: String) -> Bool {
        for _ in 0..<20 {
            usleep(25_000)
            guard let again = try? POSIXFile.readFile(path), again.count >= range.upperBound else { return false }
            if !again[range].contains(0) { return true }
        }
        return false
    }

    /// - Parameters:
    ///   - publicKeys: PEM Ed25519 public keys whose signatures are accepted. With none, a log with signed
    ///     checkpoints fails (`no public key`) and an unsigned log is checked as a hash chain only.
    ///   - checkBodies: also decompress every stored forwarded body and check it against its hash.
    public static func verify(
        directory: URL, publicKeys: [URL] = [], checkBodies: Bool = false
    ) throws(AuditVerificationFailure) -> AuditVerification {
        var keys: [String: VerifyingKey] = [:]
        for path in publicKeys {
            do {
                let key = try VerifyingKey(path: path)
                keys[key.keyID] = key
            } catch {
                throw AuditVerificationFailure(kind: .unreadable, seq: nil, file: path.path, detail: error.message)
            }
        }
        var walk = ChainWalk(keys: keys, checkBodies: checkBodies)
        let reader = AuditLogReader(directory: directory)
        do {
            try walk.run(reader)
        } catch let error as AuditVerificationFailure {
            throw error
        } catch let error as AuditError {
            throw AuditVerificationFailure(kind: .unreadable, seq: nil, file: nil, detail: error.message)
        } catch {
            throw AuditVerificationFailure(kind: .unreadable, seq: nil, file: nil, detail: "\(error)")
        }
        return walk.summary
    }
}

private struct ChainWalk {
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

    mutating func run(_ reader: AuditLogReader) throws {
        let files = try reader.files()
        guard let first = files.first else {
            throw AuditVerificationFailure(
                kind: .unreadable, seq: nil, file: nil, detail: "no audit-NNNNNN.jsonl files in \(reader.root)")
        }
        root = reader.root
        let live = reader.isOpenByWriter()
        summary.openByWriter = live
        summary.files = files.count
        if first.index != 1 {
            throw AuditVerificationFailure(
                kind: .droppedFile, seq: 1, file: LogFiles.name(index: 1),
                detail: "\(LogFiles.name(index: 1)) is missing: the log starts at \(first.name)")
        }
        var previousFile: (name: String, last: AuditEntry?)?
        for (position, file) in files.enumerated() {
            let isLast = position == files.count - 1
            if let previousFile {
                if file.index != files[position - 1].index + 1 {
                    throw AuditVerificationFailure(
                        kind: .droppedFile, seq: expectedSeq, file: LogFiles.name(index: files[position - 1].index + 1),
                        detail: "\(LogFiles.name(index: files[position - 1].index + 1)) is missing "
                            + "(records from seq \(expectedSeq) on, between \(previousFile.name) and \(file.name))")
                }
                guard let closing = previousFile.last else {
                    throw AuditVerificationFailure(
                        kind: .truncated, seq: expectedSeq, file: previousFile.name,
                        detail: "\(previousFile.name) is empty but is not the newest file")
                }
                guard closing.event == .checkpoint, closing.reason == CheckpointReason.rotate.rawValue else {
                    throw AuditVerificationFailure(
                        kind: .truncated, seq: closing.seq + 1, file: previousFile.name,
                        detail: "\(previousFile.name) ends at seq \(closing.seq) without its rotation checkpoint")
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
                    kind: .truncated, seq: expectedSeq, file: file.name,
                    detail:
                        "\(file.name) ends in an incomplete line (\(torn.count) bytes): it was truncated, or airlock "
                        + "crashed mid-write (starting airlock again sets the line aside and records the recovery)")
            }
            previousFile = (file.name, fileLast ?? nil)
            if fileLast != nil { last = fileLast }
        }

        guard let last else {
            if live { return }
            throw AuditVerificationFailure(
                kind: .truncated, seq: 1, file: first.name, detail: "the log has no records")
        }
        if last.event == .checkpoint, last.reason == CheckpointReason.rotate.rawValue, !(previousFile?.last == nil) {
            let missing = LogFiles.name(index: (files.last?.index ?? 0) + 1)
            throw AuditVerificationFailure(
                kind: .droppedFile, seq: last.seq + 1, file: missing,
                detail: "the log ends with the rotation checkpoint seq \(last.seq) but \(missing) is missing "
                    + "(removed, or airlock stopped right after rotating: starting it again creates the file)")
        }
        let cleanEnd = last.event == .checkpoint && last.reason == CheckpointReason.shutdown.rawValue
        if !cleanEnd {
            if live {
                summary.unsignedTail = sinceCheckpoint
            } else {
                throw AuditVerificationFailure(
                    kind: .truncated, seq: last.seq + 1, file: files.last?.name,
                    detail: "the log ends at seq \(last.seq) without a shutdown checkpoint: it was truncated, or "
                        + "airlock crashed (starting airlock again records the recovery)")
            }
        }
    }

    /// Checks each complete line of one file; returns its last entry.
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
            let where_ = "\(file.name) line \(number + 1)"
            let line = file.line(number)
            guard let entry = entries[number], let (canonical, claimed) = ChainLine.unseal(line) else {
                throw AuditVerificationFailure(
                    kind: .edited, seq: expectedSeq, file: where_, detail: "the line is not an audit record")
            }
            guard Digest.sha256Hex(canonical) == claimed, entry.hash == claimed else {
                throw AuditVerificationFailure(
                    kind: .edited, seq: entry.seq, file: where_, detail: "its content no longer matches its hash")
            }
            guard RecordEncoding.canonical(entry) == canonical else {
                throw AuditVerificationFailure(
                    kind: .edited, seq: entry.seq, file: where_,
                    detail: "the record is not in canonical form (a member was added, repeated or reformatted)")
            }
            if entry.seq != expectedSeq {
                if entry.seq < expectedSeq || present.contains(expectedSeq) {
                    throw AuditVerificationFailure(
                        kind: .reordered, seq: entry.seq, file: where_,
                        detail: "found after seq \(expectedSeq - 1), where seq \(expectedSeq) belongs")
                }
                if number == 0 && expectedSeq > 1 {
                    throw AuditVerificationFailure(
                        kind: .droppedFile, seq: expectedSeq, file: where_,
                        detail:
                            "\(file.name) starts at seq \(entry.seq); seq \(expectedSeq)-\(entry.seq - 1) are missing "
                            + "(a rotated file was removed and the rest renamed)")
                }
                throw AuditVerificationFailure(
                    kind: .deleted, seq: expectedSeq, file: where_,
                    detail: "seq \(expectedSeq)\(entry.seq - 1 > expectedSeq ? "-\(entry.seq - 1)" : "") "
                        + "missing: seq \(entry.seq) follows seq \(expectedSeq - 1)")
            }
            guard entry.prev == prev else {
                throw AuditVerificationFailure(
                    kind: .edited, seq: entry.seq - 1, file: where_,
                    detail: "seq \(entry.seq)'s prev does not match the hash of seq \(entry.seq - 1): "
                        + "a record was rewritten with a recomputed hash")
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
                try checkCheckpoint(entry, where: where_)
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
                kind: .alteredBody, seq: entry.seq, file: "\(BodyStore.directory)/\(location)", detail: error.message)
        }
    }

    private mutating func checkCheckpoint(_ entry: AuditEntry, where location: String) throws {
        guard entry.head == entry.prev, entry.count == entry.seq - 1, let reason = entry.reason,
            CheckpointReason(rawValue: reason) != nil
        else {
            throw AuditVerificationFailure(
                kind: .forgedCheckpoint, seq: entry.seq, file: location,
                detail: "its head or count does not describe the records before it")
        }
        summary.checkpoints += 1
        summary.checkpointedThrough = entry.seq - 1
        guard let signature = entry.signature, let keyID = entry.keyID else {
            if sawSigned || !keys.isEmpty {
                throw AuditVerificationFailure(
                    kind: .forgedCheckpoint, seq: entry.seq, file: location,
                    detail: "the checkpoint is unsigned, but the log is signed")
            }
            return
        }
        sawSigned = true
        if keys.isEmpty {
            throw AuditVerificationFailure(
                kind: .noPublicKey, seq: entry.seq, file: location,
                detail: "checkpoints are signed by key_id \(keyID); pass --public-key with the audit public key "
                    + "(Certs/audit-signing.pub) to check them")
        }
        guard let key = keys[keyID] else {
            throw AuditVerificationFailure(
                kind: .forgedCheckpoint, seq: entry.seq, file: location,
                detail: "signed by key_id \(keyID), which is not a given public key "
                    + "(\(keys.keys.sorted().joined(separator: ", ")))")
        }
        let message = RecordEncoding.checkpointMessage(
            seq: entry.seq, time: entry.time, reason: reason, head: entry.prev, count: entry.seq - 1)
        guard let raw = Data(base64Encoded: signature), key.isValid(signature: Array(raw), for: message) else {
            throw AuditVerificationFailure(
                kind: .badSignature, seq: entry.seq, file: location,
                detail: "the Ed25519 signature does not match: the records up to seq \(entry.seq - 1) or the "
                    + "checkpoint were altered")
        }
        summary.signedCheckpoints += 1
        summary.keyIDs.insert(keyID)
    }
}
