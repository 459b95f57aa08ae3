/// How names and reasons are written into Airlock's own output (findings paths, block and refusal reasons, the
/// `airlock redact` summary, the audit log): characters that could forge a line or hide text (control characters,
/// line and paragraph separators, bidirectional and invisible formatting characters) are written as escapes, and
/// every piece is capped in length. What a name says is decided before it gets here (`RedactionSession.keyStep`):
/// these functions only make text safe to print.
public enum ReportedText {
    /// The longest a key (or field or part name) is written in a path, in bytes, before `…`.
    public static let maxName = 64
    /// The longest a whole path is written, in bytes, before `…`.
    public static let maxPath = 1024
    /// The longest a reason is written, in bytes, before `…`.
    public static let maxReason = 512

    /// `text` with every character that could forge a line or hide text escaped (`\n`, `\u2028`), cut after `cap`
    /// bytes with `…`. With `quote`, that character and the backslash are escaped with a backslash too (a key inside
    /// `['...']`).
    public static func escaped(_ text: String, cap: Int, quote: Unicode.Scalar? = nil) -> String {
        var out = ""
        var written = 0
        for scalar in text.unicodeScalars {
            if written >= cap {
                out += "…"
                break
            }
            let before = out.utf8.count
            if needsEscape(scalar) {
                appendEscape(scalar, to: &out)
            } else {
                if let quote, scalar == quote || scalar == "\\" { out += "\\" }
                out.unicodeScalars.append(scalar)
            }
            written += out.utf8.count - before
        }
        return out
    }

    /// Whether a character is written as an escape: C0 and C1 controls, DEL, zero-width and bidirectional
    /// formatting characters, line and paragraph separators, word joiners and invisible operators, the BOM.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0xFEFF: true
        default: false
        }
    }

    private static func appendEscape(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }

    /// A key as one JSONPath step: `.key` when it is made of letters, digits, `_` and `-` (and short), `['key']`
    /// otherwise, escaped and capped. `name` is valid UTF-8.
    static func keyStep(_ name: [UInt8]) -> [UInt8] {
        let simple =
            !name.isEmpty && name.count <= maxName
            && name.allSatisfy { TermVariants.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        if simple { return [UInt8(ascii: ".")] + name }
        let inner = escaped(String(decoding: name, as: UTF8.self), cap: maxName, quote: "'")
        return Array("['\(inner)']".utf8)
    }

    /// The step for a key that is written as a keyed fingerprint (`[<key 1a2b3c4d5e6f>]`): a key that did not leave,
    /// or that holds something the policy blocks.
    static func fingerprintStep(_ fingerprint: String) -> [UInt8] {
        Array("[<key \(fingerprint)>]".utf8)
    }

    /// Cuts a path longer than `maxPath` at a character boundary and marks the cut with `…`.
    static func capPath(_ path: inout [UInt8]) {
        guard path.count > maxPath else { return }
        var end = maxPath
        // Back to the start of a UTF-8 sequence: continuation bytes are 10xxxxxx.
        while end > 0, path[end] & 0xC0 == 0x80 { end -= 1 }
        path.removeSubrange(end...)
        path += Array("…".utf8)
    }
}
