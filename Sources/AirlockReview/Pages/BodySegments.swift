import AirlockAudit
import AirlockPolicy

/// A stored body cut into plain text and the replacements Airlock wrote into it: placeholders (`[REDACTED:LABEL]`,
/// also percent-encoded) and the tokens of the record's pseudonymising and hashing rules (`LABEL_7QK2M`,
/// `LABEL_` + 12 hex). The template escapes every segment and marks the replacements, so the page highlights them
/// without ever holding HTML made from the body.
public struct BodySegments: Sendable {
    public struct Segment: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case text, placeholder, pseudonym
        }
        public var kind: Kind
        public var text: String

        var isPlaceholder: Bool { kind == .placeholder }
        var isPseudonym: Bool { kind == .pseudonym }
    }

    public var segments: [Segment] = []

    /// The pseudonyms and hashes found, with the label each starts with.
    public var tokens: [(label: String, token: String)] {
        segments.compactMap { segment in
            guard segment.kind == .pseudonym, let cut = segment.text.lastIndex(of: "_") else { return nil }
            return (String(segment.text[..<cut]), segment.text)
        }
    }

    /// The labels whose tokens `entry`'s findings may have written: those of its pseudonymising and hashing rules.
    public static func tokenLabels(of entry: AuditEntry) -> Set<String> {
        Set(
            (entry.findings ?? []).filter { $0.action.hasPrefix("pseudonym") || $0.action == "hash" }
                .map { RuleLabel.defaultLabel(forID: $0.id) }
        )
    }

    /// Cuts `body` (invalid UTF-8 shows as U+FFFD) at every replacement of `tokenLabels` and every placeholder.
    public init(_ body: [UInt8], tokenLabels: Set<String>) {
        let labels = tokenLabels.map { Array($0.utf8) + [UInt8(ascii: "_")] }
        var plainStart = 0
        var at = 0
        while at < body.count {
            let found =
                Self.placeholder(in: body, at: at)
                .map { (Segment.Kind.placeholder, $0) }
                ?? Self.token(in: body, at: at, labels: labels).map { (Segment.Kind.pseudonym, $0) }
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

    /// The end of a pseudonym (`LABEL_` + 5 or more of A-Z2-7) or hash (`LABEL_` + 12 lowercase hex) starting at
    /// `at`, if one does: it must start and end at a word boundary.
    static func token(in body: [UInt8], at: Int, labels: [[UInt8]]) -> Int? {
        guard at == 0 || !isLabelByte(body[at - 1]) else { return nil }
        for label in labels where body[at...].starts(with: label) {
            let start = at + label.count
            var end = start
            while end < body.count, isLabelByte(body[end]) { end += 1 }
            let tail = body[start..<end]
            let isPseudonym = tail.count >= 5 && tail.allSatisfy { upper.contains($0) || base32Digits.contains($0) }
            let isHash = tail.count == 12 && tail.allSatisfy { digits.contains($0) || hexLetters.contains($0) }
            if isPseudonym || isHash { return end }
        }
        return nil
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
