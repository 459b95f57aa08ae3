import AirlockAudit

/// A stored body cut into plain text and the replacements Airlock wrote into it: placeholders (`[REDACTED:LABEL]`,
/// also percent-encoded) and, when the record has pseudonymising or hashing findings, tokens of their shape
/// (`LABEL_7QK2M`, `LABEL_` + the long sealed form, `LABEL_` + 12 hex digits for a hash; LABEL upper case). The log
/// names rules by id, not by label, so a token is recognised by its shape; its label is read from the token itself.
/// The template escapes every segment and marks the replacements, so the page highlights them without ever holding
/// HTML made from the body.
public struct BodySegments: Sendable {
    public struct Segment: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case text, placeholder, pseudonym
        }
        public var kind: Kind
        public var text: String
    }

    public var segments: [Segment] = []

    /// The pseudonyms and hashes found, with the label each starts with.
    public var tokens: [(label: String, token: String)] {
        segments.compactMap { segment in
            guard segment.kind == .pseudonym, let cut = segment.text.lastIndex(of: "_") else { return nil }
            return (String(segment.text[..<cut]), segment.text)
        }
    }

    /// Which tokens `entry`'s findings may have written: pseudonyms, hashes, both or neither.
    public static func tokenKinds(of entry: AuditEntry) -> (pseudonyms: Bool, hashes: Bool) {
        let actions = Set((entry.findings ?? []).map(\.action))
        return (actions.contains { $0.hasPrefix("pseudonym") }, actions.contains("hash"))
    }

    /// Cuts `body` (invalid UTF-8 shows as U+FFFD) at every placeholder and every token of the kinds given.
    public init(_ body: [UInt8], pseudonyms: Bool, hashes: Bool) {
        var plainStart = 0
        var at = 0
        while at < body.count {
            let found =
                Self.placeholder(in: body, at: at)
                .map { (Segment.Kind.placeholder, $0) }
                ?? Self.token(in: body, at: at, pseudonyms: pseudonyms, hashes: hashes).map {
                    (Segment.Kind.pseudonym, $0)
                }
            guard let (kind, end) = found else {
                at += 1
                continue
            }
            append(.text, body[plainStart..<at])
            append(kind, body[at..<end])
            at = end
            plainStart = end
        }
        append(.text, body[plainStart..<body.count])
    }

    public init(_ body: [UInt8], for entry: AuditEntry) {
        let kinds = Self.tokenKinds(of: entry)
        self.init(body, pseudonyms: kinds.pseudonyms, hashes: kinds.hashes)
    }

    private mutating func append(_ kind: Segment.Kind, _ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        segments.append(Segment(kind: kind, text: String(decoding: bytes, as: UTF8.self)))
    }

    private static let placeholderForms: [(open: [UInt8], close: [UInt8])] = [
        (Array("[REDACTED:".utf8), Array("]".utf8)),
        (Array("%5BREDACTED%3A".utf8), Array("%5D".utf8)),
    ]

    /// The end of a placeholder starting at `at`, if one does.
    static func placeholder(in body: [UInt8], at: Int) -> Int? {
        for form in placeholderForms where body[at...].starts(with: form.open) {
            var end = at + form.open.count
            while end < body.count, isLabelByte(body[end]) { end += 1 }
            guard end > at + form.open.count, body[end...].starts(with: form.close) else { continue }
            return end + form.close.count
        }
        return nil
    }

    /// The end of a token starting at `at`, if one does: a word (letters, digits, `_`) starting at a word boundary,
    /// whose part before its last `_` is a label (an upper-case letter, then upper-case letters, digits, `_`) and
    /// whose part after is a pseudonym (5 or more of A-Z, 2-7) or a hash (12 lowercase hex digits).
    static func token(in body: [UInt8], at: Int, pseudonyms: Bool, hashes: Bool) -> Int? {
        guard pseudonyms || hashes, at == 0 || !isLabelByte(body[at - 1]), upper.contains(body[at]) else { return nil }
        var end = at
        while end < body.count, isLabelByte(body[end]) { end += 1 }
        guard let cut = body[at..<end].lastIndex(of: UInt8(ascii: "_")), cut > at else { return nil }
        let label = body[at..<cut]
        guard label.allSatisfy({ upper.contains($0) || digits.contains($0) || $0 == UInt8(ascii: "_") }) else {
            return nil
        }
        let tail = body[(cut + 1)..<end]
        let isPseudonym =
            pseudonyms && tail.count >= 5 && tail.allSatisfy { upper.contains($0) || base32Digits.contains($0) }
        let isHash = hashes && tail.count == 12 && tail.allSatisfy { digits.contains($0) || hexLetters.contains($0) }
        return isPseudonym || isHash ? end : nil
    }

    private static let upper = UInt8(ascii: "A")...UInt8(ascii: "Z")
    private static let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
    private static let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
    private static let base32Digits = UInt8(ascii: "2")...UInt8(ascii: "7")
    private static let hexLetters = UInt8(ascii: "a")...UInt8(ascii: "f")

    static func isLabelByte(_ byte: UInt8) -> Bool {
        upper.contains(byte) || lower.contains(byte) || digits.contains(byte) || byte == UInt8(ascii: "_")
    }
}
