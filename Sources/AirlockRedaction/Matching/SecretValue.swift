import Foundation

/// Whether the value of a generic credential assignment (`password=…`, `api_key: …`) looks generated rather than
/// typed as an example, a placeholder or code. Policies/README.md states the rule; `SecretDetectorTests` holds the
/// controls.
///
/// A value is a secret when it is at least 8 characters long, is not a placeholder, is not a dotted name (code:
/// `settings.SECRET_KEY`), and either mixes three of the four character classes (lower, upper, digit, symbol) with a
/// Shannon entropy of at least 3 bits per character (`Tr0ub4dor&3`, `wJalrXUtnFEMI/K7MDENG…`), or is at least 20
/// characters of letters and digits with at least 3.5 bits per character (hex and base64 tokens).
/// Not secrets by this rule: `changeme`, `hunter2`, `password123`, `P@ssw0rd`, `correct-horse-battery-staple`,
/// `${API_KEY}`, `os.environ`, `YOUR_API_KEY`, `xxxxxxxxxxxx`.
enum SecretValue {
    static let minimumLength = 8

    /// Words that mark a documentation placeholder (compared case-insensitively).
    static let placeholderWords: [[UInt8]] = [
        "example", "changeme", "password", "placeholder", "your", "redacted", "dummy", "sample", "insert", "replace",
    ].map { Array($0.utf8) }

    static func looksGenerated(_ p: UnsafePointer<UInt8>, start: Int, end: Int) -> Bool {
        let n = end - start
        guard n >= minimumLength else { return false }
        var counts = [Int](repeating: 0, count: 256)
        var lower = false
        var upper = false
        var digit = false
        var symbol = false
        var run = 1
        for i in start..<end {
            let b = p[i]
            counts[Int(b)] += 1
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): lower = true
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): upper = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = true
            default: symbol = true
            }
            // Four of one character in a row: `xxxx`, `****`, `0000`.
            if i > start, p[i - 1] == b {
                run += 1
                if run >= 4 { return false }
            } else {
                run = 1
            }
        }
        if containsPlaceholder(p, start: start, end: end) || isDottedName(p, start: start, end: end) { return false }
        var entropy = 0.0
        for count in counts where count > 0 {
            let f = Double(count) / Double(n)
            entropy -= f * log2(f)
        }
        let classes = [lower, upper, digit, symbol].filter { $0 }.count
        if classes >= 3 && entropy >= 3.0 { return true }
        return n >= 20 && !symbol && digit && (lower || upper) && entropy >= 3.5
    }

    private static func containsPlaceholder(_ p: UnsafePointer<UInt8>, start: Int, end: Int) -> Bool {
        placeholderWords.contains { word in
            guard word.count <= end - start else { return false }
            return (start...(end - word.count)).contains { i in
                (0..<word.count).allSatisfy { k in
                    let b = p[i + k]
                    return (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) == word[k]
                }
            }
        }
    }

    /// `name.name(.name)*` where every name starts with a letter or `_` and holds letters, digits and `_`.
    private static func isDottedName(_ p: UnsafePointer<UInt8>, start: Int, end: Int) -> Bool {
        var dots = 0
        var atNameStart = true
        for i in start..<end {
            let b = p[i]
            if b == UInt8(ascii: ".") {
                if atNameStart { return false }
                dots += 1
                atNameStart = true
                continue
            }
            let letter = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b == UInt8(ascii: "_")
            let digit = b >= 0x30 && b <= 0x39
            if atNameStart ? !letter : !(letter || digit) { return false }
            atNameStart = false
        }
        return dots > 0 && !atNameStart
    }

    /// The end of the run of characters from `start` (before `hi`) that `inValue` accepts.
    /// How much of an assignment's value is weighed by `looksGenerated` (secrets are far shorter).
    static let judgedBytes = 128

    static func valueEnd(_ p: UnsafePointer<UInt8>, from start: Int, hi: Int, _ inValue: (UInt8) -> Bool) -> Int {
        var i = start
        while i < hi, inValue(p[i]) { i += 1 }
        return i
    }

    /// `SecretFormats.valueClass`: `[A-Za-z0-9+/=_.~!@#%^*-]`.
    static func isValueByte(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || Array("+/=_.~!@#%^*-".utf8).contains(b)
    }

    /// `[A-Za-z0-9/+]`.
    static func isBase64Byte(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: "+")
    }
}
