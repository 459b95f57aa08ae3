/// Names in findings paths and reasons, written as they left.
///
/// A JSON key, an NDJSON key, a form field name and a multipart part name are content: a lab can key an object by a
/// codename, an email or an access key. A path names such a key exactly as the policy's actions wrote it into the
/// forwarded body (redacted, masked, hashed, pseudonymised), by the same redaction of the same text; a key with no
/// written form (it holds something the policy blocks, or it belongs to a member that did not leave) is named by its
/// keyed fingerprint, `[<key 1a2b3c4d5e6f>]`. Then `ReportedText` escapes and caps what is written.
extension RedactionSession {
    /// The bytes `name` left as: redacted exactly as a key or field name of the body is, or `nil` when it has no
    /// written form (something in it is blocked, or it is not text). Records nothing.
    func nameAsItLeft(_ name: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        nameAsItLeft(name, unmatched: nil)
    }

    /// `nameAsItLeft`, setting `unmatched` when no rule matches anything in `name` (it leaves as it came, for every
    /// vendor).
    private func nameAsItLeft(_ name: UnsafeBufferPointer<UInt8>, unmatched: UnsafeMutablePointer<Bool>?) -> [UInt8]? {
        guard let base = name.baseAddress, name.count > 0 else { return [] }
        let summary = UTF8Text.summarize(name)
        guard summary.valid else { return nil }
        // A reason is scrubbed after a stop, which may leave hits behind; a path is named between scans.
        sink.hits.removeAll(keepingCapacity: true)
        // The redaction of a name records findings the body's own redaction of it records already.
        let snapshot = snapshotFindings()
        // A name is redacted on its own text only, as the body's keys are (`JSONMemberContext`).
        let context = memberContext
        memberContext = nil
        defer {
            restoreFindings(snapshot)
            memberContext = context
        }
        do {
            let redacted = try redactSegment(
                base,
                lo: 0,
                hi: name.count,
                hits: nil,
                zeroWidth: summary.hasZeroWidth,
                path: { nil }
            )
            if redacted == nil { unmatched?.pointee = true }
            return redacted ?? Array(name)
        } catch {
            return nil
        }
    }

    /// The JSONPath step naming the key `name`: as it left, or `[<key FINGERPRINT>]` when it has no written form or
    /// when `hidden` (the member it keys did not leave).
    func keyStep(_ name: UnsafeBufferPointer<UInt8>, hidden: Bool = false) -> [UInt8] {
        if hidden { return ReportedText.fingerprintStep(keys.fingerprint(name)) }
        let key = ByteKey(Array(name))
        if let known = reportedKeySteps[key] ?? unmatchedNames?.step(for: key) { return known }
        var unmatched = false
        let step =
            nameAsItLeft(name, unmatched: &unmatched).map(ReportedText.keyStep)
            ?? ReportedText.fingerprintStep(keys.fingerprint(name))
        if unmatched { unmatchedNames?.keep(step, for: key) }
        if reportedKeySteps.count < 1024 { reportedKeySteps[key] = step }
        return step
    }

    /// `$` and one key step: the path of a form field or multipart part.
    func topLevelPath(_ name: [UInt8], hidden: Bool = false) -> String {
        let step = name.withUnsafeBufferPointer { keyStep($0, hidden: hidden) }
        return String(decoding: [UInt8(ascii: "$")] + step, as: UTF8.self)
    }

    /// A name as a reason quotes it: `'...'` as it left, escaped and capped, or `<name FINGERPRINT>`.
    func quotedName(_ name: String) -> String {
        let bytes = Array(name.utf8)
        guard let left = bytes.withUnsafeBufferPointer({ nameAsItLeft($0) }) else {
            return "<name \(keys.fingerprint(bytes))>"
        }
        return "'" + ReportedText.escaped(String(decoding: left, as: UTF8.self), cap: ReportedText.maxName) + "'"
    }

    /// A reason as it may be written anywhere: whatever in it the policy matches is replaced as in a body, control
    /// characters are escaped, the length is capped. Reasons are built from names written as they left already;
    /// this also covers what a parser quotes (a media type, a charset). A reason that quotes something the policy
    /// blocks is withheld whole.
    func scrubbed(_ reason: String) -> String {
        let bytes = Array(reason.utf8)
        guard let left = bytes.withUnsafeBufferPointer({ nameAsItLeft($0) }) else {
            return "the reason is withheld: it quotes text the policy blocks"
        }
        return ReportedText.escaped(String(decoding: left, as: UTF8.self), cap: ReportedText.maxReason)
    }
}

extension CompiledFieldRule {
    /// Whether a path this rule selects names its last key by fingerprint when the member does not leave (`drop`,
    /// `block`): a key the rule picks by wildcard is the lab's, not the policy's, and did not leave.
    var hidesKey: Bool {
        guard case .wildcard? = segments.last else { return false }
        return true
    }
}
