/// How each kind of line is laid out. The order of members is part of the canonical form.
enum RecordEncoding {
    static func decision(
        seq: Int,
        time: String,
        _ record: DecisionRecord,
        body: String?,
        replica: String? = nil
    ) -> JSONLine {
        decision(seq: seq, time: time, EncodedDecision(record), body: body, replica: replica)
    }

    /// The decision line from members encoded ahead (by the caller, off the writer thread).
    static func decision(
        seq: Int,
        time: String,
        _ encoded: EncodedDecision,
        body: String?,
        replica: String? = nil
    ) -> JSONLine {
        var line = header("decision", seq: seq, time: time, replica: replica)
        appendDecision(to: &line, members: encoded.beforeBody, body: body, after: encoded.afterBody)
        return line
    }

    /// A decision's members after `time`: the caller's encoded members with `body` spliced in.
    static func appendDecision<Members: Collection<UInt8>>(
        to line: inout JSONLine,
        members: Members,
        body: String?,
        after: Members
    ) {
        line.members(members)
        line.string("body", body)
        // The members after `body` start with the comma the caller's fragment put between them.
        line.members(after.first == UInt8(ascii: ",") ? after.dropFirst() : after[...])
    }

    static func outcome(
        seq: Int,
        time: String,
        id: String,
        status: Int?,
        durationMs: Double,
        error: String?,
        replica: String? = nil
    ) -> JSONLine {
        outcome(
            seq: seq,
            time: time,
            outcomeMembers(id: id, status: status, durationMs: durationMs, error: error),
            replica: replica
        )
    }

    static func outcome(seq: Int, time: String, _ members: [UInt8], replica: String? = nil) -> JSONLine {
        var line = header("outcome", seq: seq, time: time, replica: replica)
        line.members(members)
        return line
    }

    /// An outcome's members after `time`, encoded ahead by the caller.
    static func outcomeMembers(id: String, status: Int?, durationMs: Double, error: String?) -> [UInt8] {
        var members = JSONLine(fragmentCapacity: 160)
        members.string("id", id)
        members.int("status", status)
        members.milliseconds("duration_ms", durationMs)
        members.string("error", error)
        return members.fragment
    }

    static func checkpoint(
        seq: Int,
        time: String,
        reason: CheckpointReason,
        head: String,
        keyID: String?,
        signature: String?,
        replica: String? = nil
    ) -> JSONLine {
        var line = header("checkpoint", seq: seq, time: time, replica: replica)
        line.string("reason", reason.rawValue)
        line.string("head", head)
        line.int("count", seq - 1)
        line.string("key_id", keyID)
        line.string("signature", signature)
        return line
    }

    /// The bytes a checkpoint signature covers. `count` is the number of records before the checkpoint and `head`
    /// the hash of the last of them, so the signature pins the whole chain up to it.
    static func checkpointMessage(seq: Int, time: String, reason: String, head: String, count: Int) -> [UInt8] {
        Array("airlock-audit-checkpoint/v1 seq=\(seq) time=\(time) reason=\(reason) head=\(head) count=\(count)".utf8)
    }

    static func recovery(
        seq: Int,
        time: String,
        reason: String,
        afterSeq: Int,
        tornBytes: Int?,
        tornSHA256: String?,
        kept: String?,
        replica: String? = nil
    ) -> JSONLine {
        var line = header("recovery", seq: seq, time: time, replica: replica)
        line.string("reason", reason)
        line.int("after_seq", afterSeq)
        line.int("torn_bytes", tornBytes)
        line.string("torn_sha256", tornSHA256)
        line.string("kept", kept)
        return line
    }

    private static func header(_ event: String, seq: Int, time: String, replica: String?) -> JSONLine {
        var line = JSONLine()
        appendHeader(to: &line, event, seq: seq, time: time, replica: replica)
        return line
    }

    /// `"event"`, `"seq"` and `"time"`: the members every line starts with; then `"replica"`, the id of the Airlock
    /// replica that wrote the line, when it has one (lines of logs written before replica ids have none).
    static func appendHeader(to line: inout JSONLine, _ event: String, seq: Int, time: String, replica: String?) {
        line.string("event", event)
        line.int("seq", seq)
        line.string("time", time)
        if let replica { line.string("replica", replica) }
    }
}

extension RecordEncoding {
    /// The canonical form (without `hash`) of a decoded entry, rebuilt from its fields. The verifier compares it with
    /// the bytes it read, so a line with duplicated, extra or reformatted members is rejected even when its hash was
    /// recomputed: what a reviewer reads is exactly what was hashed.
    static func canonical(_ entry: AuditEntry) -> [UInt8]? {
        var line: JSONLine
        switch entry.event {
        case .decision:
            guard let id = entry.id, let client = entry.client, let vendor = entry.vendor, let method = entry.method,
                let path = entry.path, let decision = entry.decision, let policy = entry.policy,
                let findings = entry.findings, let requestBytes = entry.requestBytes
            else { return nil }
            var record = DecisionRecord(
                id: id,
                client: client,
                vendor: vendor,
                method: method,
                path: path,
                decision: decision,
                reason: entry.reason,
                rule: entry.rule,
                policy: policy,
                findings: findings,
                requestBytes: requestBytes,
                status: entry.status,
                durationMs: entry.durationMs,
                refusals: entry.refusals,
                category: entry.category,
                direction: entry.direction
            )
            record.forwardedBytes = entry.forwardedBytes
            record.forwardedSHA256 = entry.forwardedSHA256
            record.candidate = entry.candidate
            line = RecordEncoding.decision(
                seq: entry.seq,
                time: entry.time,
                record,
                body: entry.body,
                replica: entry.replica
            )
        case .outcome:
            guard let id = entry.id, let durationMs = entry.durationMs else { return nil }
            line = outcome(
                seq: entry.seq,
                time: entry.time,
                id: id,
                status: entry.status,
                durationMs: durationMs,
                error: entry.error,
                replica: entry.replica
            )
        case .checkpoint:
            guard let reason = entry.reason.flatMap(CheckpointReason.init(rawValue:)), let head = entry.head else {
                return nil
            }
            line = checkpoint(
                seq: entry.seq,
                time: entry.time,
                reason: reason,
                head: head,
                keyID: entry.keyID,
                signature: entry.signature,
                replica: entry.replica
            )
        case .recovery:
            guard let reason = entry.reason, let afterSeq = entry.afterSeq else { return nil }
            line = recovery(
                seq: entry.seq,
                time: entry.time,
                reason: reason,
                afterSeq: afterSeq,
                tornBytes: entry.tornBytes,
                tornSHA256: entry.tornSHA256,
                kept: entry.kept,
                replica: entry.replica
            )
        }
        line.string("prev", entry.prev)
        return line.finished()
    }
}
