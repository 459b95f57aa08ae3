import AirlockRedaction

/// Invariants every target asserts; a violation stops the process (libFuzzer saves the input as a crash).
public enum FuzzCheck {
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("fuzz invariant violated: \(message())") }
    }

    /// Whether `bytes` contain a hidden term as spelled, ASCII case folded, as a whole word (no letter, digit, `_` or
    /// non-ASCII byte on either side). An occurrence right after an odd run of backslashes does not count: in JSON,
    /// `\tidewater` is a tab and "idewater".
    public static func leakedTerm(in bytes: [UInt8]) -> String? {
        let folded = bytes.map(asciiLower)
        for term in FuzzPolicy.hiddenTerms {
            let needle = Array(term.utf8).map(asciiLower)
            if contains(folded, needle) { return term }
        }
        return nil
    }

    /// What must hold of any outcome: a forwarded body carries no hidden term, and no refusal reason or finding
    /// path names one (nothing the policy hides may appear in Airlock's own output).
    public static func outcome(_ outcome: RedactionOutcome, _ what: String) {
        switch outcome {
        case .forward(let body, _):
            if let term = leakedTerm(in: body) { require(false, "\(what): forwarded body carries \(term)") }
        case .block(_, let reason, _), .uninspectable(let reason, _):
            if let term = leakedTerm(in: Array(reason.utf8)) { require(false, "\(what): reason names \(term)") }
        }
        for finding in outcome.findings {
            for path in finding.paths {
                if let term = leakedTerm(in: Array(path.utf8)) { require(false, "\(what): path names \(term)") }
            }
        }
    }

    /// A forwarded body redacted again, as the same type: it must still parse (the redaction wrote valid `type`),
    /// leave again, and hold nothing a term rule acts on (redaction is a fixpoint for terms).
    public static func fixpoint(
        _ redactor: Redactor,
        _ body: [UInt8],
        contentType: String?,
        contentEncoding: String? = nil,
        _ what: String
    ) {
        let again = redactor.redact(
            body: body,
            contentType: contentType,
            contentEncoding: contentEncoding,
            vendor: "fuzz"
        )
        switch again {
        case .forward(_, let findings):
            let terms = findings.filter { FuzzPolicy.termRuleIDs.contains($0.rule) }.map(\.rule)
            require(terms.isEmpty, "\(what): redacting the forwarded body again finds terms \(terms)")
        case .block(let rule, let reason, _):
            require(false, "\(what): the forwarded body is blocked when redacted again: \(rule) \(reason)")
        case .uninspectable(let reason, _):
            require(false, "\(what): the forwarded body does not parse again: \(reason)")
        }
    }

    /// The fuzz input as bytes.
    public static func bytes(_ start: UnsafeRawPointer, _ count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// The first line of `input` (without its newline) as a header value, and the rest: targets that fuzz a
    /// Content-Type along with the body take it from the first line. `nil` when there is no newline.
    public static func headerAndBody(_ input: [UInt8]) -> (header: String, body: [UInt8])? {
        guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return (String(decoding: input[..<newline], as: UTF8.self), Array(input[(newline + 1)...]))
    }

    private static func asciiLower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) && !escaped(haystack, i)
                && (i == 0 || !isWordByte(haystack[i - 1]))
                && (i + needle.count == haystack.count || !followedByWord(haystack, i + needle.count))
            {
                return true
            }
            i += 1
        }
        return false
    }

    /// Whether the character at `j` continues a word, reading a JSON `\uXXXX` or a `%XX` escape as the character
    /// it stands for (`Nightingale\u0069nupdda` and `Nightingale%D1%9Act` are one word, as the engine reads them).
    private static func followedByWord(_ bytes: [UInt8], _ j: Int) -> Bool {
        func hex(_ k: Int) -> UInt32? {
            guard k < bytes.count else { return nil }
            switch bytes[k] {
            case 0x30...0x39: return UInt32(bytes[k] - 0x30)
            case 0x41...0x46: return UInt32(bytes[k] - 0x41 + 10)
            case 0x61...0x66: return UInt32(bytes[k] - 0x61 + 10)
            default: return nil
            }
        }
        if bytes[j] == UInt8(ascii: "\\"), j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "u"),
            let a = hex(j + 2), let b = hex(j + 3), let c = hex(j + 4), let d = hex(j + 5)
        {
            let scalar = a << 12 | b << 8 | c << 4 | d
            return scalar >= 0x80 || (scalar < 0x80 && isWordByte(UInt8(scalar)))
        }
        if bytes[j] == UInt8(ascii: "%"), let a = hex(j + 1), let b = hex(j + 2) {
            return isWordByte(UInt8(a << 4 | b))
        }
        return isWordByte(bytes[j])
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        b >= 0x80 || b == UInt8(ascii: "_") || (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A)
            || (b >= 0x41 && b <= 0x5A)
    }

    /// Whether the byte at `i` follows an odd run of backslashes.
    private static func escaped(_ bytes: [UInt8], _ i: Int) -> Bool {
        var run = 0
        var j = i - 1
        while j >= 0, bytes[j] == UInt8(ascii: "\\") {
            run += 1
            j -= 1
        }
        return run % 2 == 1
    }
}
