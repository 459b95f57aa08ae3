import Foundation

/// Checks that a pattern is a regular expression the redaction engine can compile with Vectorscan, without
/// Vectorscan: Vectorscan takes PCRE syntax minus backreferences, lookarounds, atomic groups, possessive quantifiers,
/// conditionals, recursion, backtracking verbs, `\K`, `\R` and `\C`, and it refuses patterns that can match the empty
/// string. A small scanner reports those constructs and the common syntax errors with an offset; ICU (through
/// `NSRegularExpression`) then catches the rest.
public enum RegexSyntax {
    /// `nil` when `pattern` is acceptable, else the reason (with a character offset where there is one).
    public static func problem(in pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        var rewrites: [Rewrite] = []
        if let problem = scan(scalars, rewrites: &rewrites) {
            return problem
        }
        // ICU's syntax differs from PCRE's in a few places the scanner has rewritten (see `Rewrite`).
        var icuPattern = String.UnicodeScalarView()
        var offset = 0
        for rewrite in rewrites.sorted(by: { $0.start < $1.start }) where rewrite.start >= offset {
            icuPattern.append(contentsOf: scalars[offset..<rewrite.start])
            icuPattern.append(contentsOf: rewrite.replacement.unicodeScalars)
            offset = rewrite.end
        }
        icuPattern.append(contentsOf: scalars[offset...])
        let expression: NSRegularExpression
        do {
            expression = try NSRegularExpression(pattern: String(icuPattern))
        } catch {
            return "not a valid regular expression"
        }
        for sample in ["", "a A 0 _ - .\n", "\n"] {
            let range = NSRange(location: 0, length: (sample as NSString).length)
            let matchesEmpty = expression.matches(in: sample, range: range).contains { $0.range.length == 0 }
            if matchesEmpty {
                return "it can match the empty string, which Vectorscan refuses (e.g. write 'a+' instead of 'a*')"
            }
        }
        return nil
    }

    /// PCRE syntax that Vectorscan accepts but ICU does not, replaced by an equivalent for the ICU check: a `{` that
    /// does not start a repeat and any `}` outside one (literals in PCRE), `(?'name'` and `(?P<name>` groups, leading
    /// `(*UTF8)`-style options, and octal escapes.
    private struct Rewrite {
        var start: Int
        var end: Int
        var replacement: String
    }

    /// Vectorscan's accepted leading options.
    private static let leadingOptions = ["(*UTF8)", "(*UTF)", "(*UCP)"]

    // Over 80 lines: one pass whose cursor, group depth and quantifier state every construct reads and moves.
    private static func scan(_ s: [Unicode.Scalar], rewrites: inout [Rewrite]) -> String? {
        var i = 0
        var depth = 0
        // Whether the previous token can take a quantifier.
        var canRepeat = false
        // Whether the previous token was a quantifier (so `+` after it is possessive).
        var afterQuantifier = false

        func digits(_ from: Int) -> (value: Int?, end: Int) {
            var end = from
            while end < s.count, ("0"..."9").contains(s[end]) { end += 1 }
            guard end > from else { return (nil, from) }
            return (Int(String(String.UnicodeScalarView(s[from..<end]))), end)
        }

        while i < s.count {
            let c = s[i]
            switch c {
            case "\\":
                guard i + 1 < s.count else { return "trailing '\\' at offset \(i)" }
                let e = s[i + 1]
                switch e {
                case "0"..."9":
                    // \0, \0oo and multi-digit octal like \101 are characters; \1 to \9 are backreferences.
                    var end = i + 2
                    while end < s.count, end < i + 4, ("0"..."7").contains(s[end]) { end += 1 }
                    if e != "0", end == i + 2 {
                        return "backreference '\\\(e)' at offset \(i): Vectorscan does not support backreferences"
                    }
                    let octal = String(String.UnicodeScalarView(s[(i + 1)..<end]))
                    guard let value = Int(octal, radix: 8) else {
                        return "backreference '\\\(octal)' at offset \(i): Vectorscan does not support backreferences"
                    }
                    rewrites.append(Rewrite(start: i, end: end, replacement: "\\x{\(String(value, radix: 16))}"))
                    i = end
                    canRepeat = true
                    afterQuantifier = false
                    continue
                case "X", "N", "G":
                    return "'\\\(e)' at offset \(i) is not supported by Vectorscan"
                case "g", "k":
                    return "backreference '\\\(e)' at offset \(i): Vectorscan does not support backreferences"
                case "K", "R", "C":
                    return "'\\\(e)' at offset \(i) is not supported by Vectorscan"
                case "Q":
                    // Literal text up to \E (or the end).
                    var j = i + 2
                    while j < s.count, !(s[j] == "\\" && j + 1 < s.count && s[j + 1] == "E") { j += 1 }
                    canRepeat = j > i + 2
                    i = min(s.count, j + 2)
                    afterQuantifier = false
                    continue
                case "b", "B", "A", "Z", "z":
                    canRepeat = false
                case "p", "P", "x",
                    "o" where i + 2 < s.count && s[i + 2] == "{":
                    // \p{L}, \x{41}, \o{101}: the braces belong to the escape.
                    var end = i + 3
                    while end < s.count, s[end] != "}" { end += 1 }
                    guard end < s.count else { return "unterminated '\\\(e){' at offset \(i)" }
                    i = end + 1
                    canRepeat = true
                    afterQuantifier = false
                    continue
                default:
                    canRepeat = true
                }
                afterQuantifier = false
                i += 2
            case "[":
                guard let end = classEnd(s, from: i) else {
                    return "unterminated character class '[' at offset \(i)"
                }
                if let problem = checkClass(s, from: i, to: end) { return problem }
                i = end + 1
                canRepeat = true
                afterQuantifier = false
            case "(":
                if i + 1 < s.count, s[i + 1] == "*" {
                    let rest = String(String.UnicodeScalarView(s[i...]))
                    if let option = leadingOptions.first(where: { rest.hasPrefix($0) }),
                        i == 0 || rewrites.last.map({ $0.replacement.isEmpty && $0.end == i }) == true
                    {
                        rewrites.append(Rewrite(start: i, end: i + option.unicodeScalars.count, replacement: ""))
                        i += option.unicodeScalars.count
                        continue
                    }
                    return "control verb '(*' at offset \(i) is not supported by Vectorscan"
                }
                if i + 1 < s.count, s[i + 1] == "?" {
                    let rest = String(String.UnicodeScalarView(s[(i + 2)..<min(s.count, i + 4)]))
                    if rest.hasPrefix("=") || rest.hasPrefix("!") {
                        return "lookahead '(?\(rest.prefix(1))' at offset \(i): Vectorscan does not support lookarounds"
                    }
                    if rest.hasPrefix("<=") || rest.hasPrefix("<!") {
                        return "lookbehind '(?\(rest)' at offset \(i): Vectorscan does not support lookarounds"
                    }
                    if rest.hasPrefix(">") {
                        return "atomic group '(?>' at offset \(i) is not supported by Vectorscan"
                    }
                    if rest.hasPrefix("(") {
                        return "conditional '(?(' at offset \(i) is not supported by Vectorscan"
                    }
                    if rest.hasPrefix("P=") {
                        return "backreference '(?P=' at offset \(i): Vectorscan does not support backreferences"
                    }
                    let callsGroup = rest.first.map { first in
                        first.isNumber || first == "+" || (first == "-" && rest.last?.isNumber == true)
                    }
                    if rest.hasPrefix("R") || rest.hasPrefix("&") || rest.hasPrefix("P>") || callsGroup == true {
                        return "recursion or subroutine call at offset \(i) is not supported by Vectorscan"
                    }
                    if rest.hasPrefix("#") {
                        // A comment group: skip to its ')'.
                        var j = i + 3
                        while j < s.count, s[j] != ")" { j += 1 }
                        guard j < s.count else { return "unterminated comment '(?#' at offset \(i)" }
                        i = j + 1
                        continue
                    }
                    // Inline flags alone, like (?i), are not a group and cannot be repeated.
                    var j = i + 2
                    while j < s.count, "imsx-".unicodeScalars.contains(s[j]) { j += 1 }
                    if j < s.count, s[j] == ")" {
                        i = j + 1
                        canRepeat = false
                        afterQuantifier = false
                        continue
                    }
                    // A group with a prefix: (?:, (?i:, (?<name>, (?P<name>, (?'name'.
                    if j < s.count, s[j] == ":" {
                        i = j + 1
                    } else if j < s.count, s[j] == "<" || s[j] == "P" || s[j] == "'" {
                        let close: Unicode.Scalar = s[j] == "'" ? "'" : ">"
                        var k = j + 1
                        while k < s.count, s[k] != close { k += 1 }
                        guard k < s.count else { return "unterminated group name at offset \(i)" }
                        rewrites.append(Rewrite(start: i, end: k + 1, replacement: "(?:"))
                        i = k + 1
                    } else {
                        return "unknown group syntax '(?' at offset \(i)"
                    }
                } else {
                    i += 1
                }
                depth += 1
                canRepeat = false
                afterQuantifier = false
            case ")":
                guard depth > 0 else { return "unmatched ')' at offset \(i)" }
                depth -= 1
                i += 1
                canRepeat = true
                afterQuantifier = false
            case "|":
                i += 1
                canRepeat = false
                afterQuantifier = false
            case "^", "$":
                i += 1
                canRepeat = false
                afterQuantifier = false
            case "*", "+", "?":
                if afterQuantifier {
                    if c == "+" {
                        return "possessive quantifier at offset \(i) is not supported by Vectorscan"
                    }
                    if c == "?" {
                        // Lazy: Vectorscan accepts it (and reports every match anyway).
                        i += 1
                        afterQuantifier = false
                        canRepeat = false
                        continue
                    }
                }
                guard canRepeat else { return "nothing to repeat before '\(c)' at offset \(i)" }
                i += 1
                canRepeat = false
                afterQuantifier = true
            case "{":
                // {n}, {n,}, {n,m}; anything else is a literal '{' in PCRE.
                let (low, afterLow) = digits(i + 1)
                var end: Int? = nil
                var high: Int? = low
                if low != nil, afterLow < s.count {
                    if s[afterLow] == "}" {
                        end = afterLow
                    } else if s[afterLow] == "," {
                        let (h, afterHigh) = digits(afterLow + 1)
                        if afterHigh < s.count, s[afterHigh] == "}" {
                            end = afterHigh
                            high = h
                            if h == nil { high = nil }
                        }
                    }
                }
                if let end, let low {
                    guard canRepeat else { return "nothing to repeat before '{' at offset \(i)" }
                    if let high, s[end - 1] != ",", high < low {
                        return "repeat range {\(low),\(high)} at offset \(i) has its bounds in the wrong order"
                    }
                    i = end + 1
                    canRepeat = false
                    afterQuantifier = true
                } else {
                    rewrites.append(Rewrite(start: i, end: i + 1, replacement: "\\{"))
                    i += 1
                    canRepeat = true
                    afterQuantifier = false
                }
            default:
                if c == "}" { rewrites.append(Rewrite(start: i, end: i + 1, replacement: "\\}")) }
                i += 1
                canRepeat = true
                afterQuantifier = false
            }
        }
        if depth > 0 { return "missing ')': \(depth) group(s) not closed" }
        return nil
    }

    /// The index of the `]` that closes the class opened at `start`, or nil.
    private static func classEnd(_ s: [Unicode.Scalar], from start: Int) -> Int? {
        var i = start + 1
        if i < s.count, s[i] == "^" { i += 1 }
        // A ']' right at the start is a literal.
        if i < s.count, s[i] == "]" { i += 1 }
        while i < s.count {
            switch s[i] {
            case "\\":
                i += 2
            case "[":
                // POSIX class [:alpha:]
                if i + 1 < s.count, s[i + 1] == ":" {
                    var j = i + 2
                    while j + 1 < s.count, !(s[j] == ":" && s[j + 1] == "]") { j += 1 }
                    i = j + 2
                } else {
                    i += 1
                }
            case "]":
                return i
            default:
                i += 1
            }
        }
        return nil
    }

    /// Reports ranges like `z-a` and backreferences inside `[...]` (from `start` to `end`, the brackets).
    private static func checkClass(_ s: [Unicode.Scalar], from start: Int, to end: Int) -> String? {
        var items: [(scalar: Unicode.Scalar?, offset: Int)] = []
        var i = start + 1
        if i < end, s[i] == "^" { i += 1 }
        var first = true
        while i < end {
            if s[i] == "\\", i + 1 < end {
                let e = s[i + 1]
                let literal: Unicode.Scalar? =
                    switch e {
                    case "d", "D", "w", "W", "s", "S", "h", "H", "v", "V", "p", "P": nil
                    case "n": "\n"
                    case "t": "\t"
                    case "r": "\r"
                    default: e.properties.isAlphabetic || ("0"..."9").contains(e) ? nil : e
                    }
                items.append((literal, i))
                i += 2
            } else if s[i] == "[", i + 1 < end, s[i + 1] == ":" {
                var j = i + 2
                while j + 1 < end, !(s[j] == ":" && s[j + 1] == "]") { j += 1 }
                items.append((nil, i))
                i = j + 2
            } else if s[i] == "-", !first, i + 1 < end, let low = items.last, let lowScalar = low.scalar {
                // A range low-high: look at what follows.
                var highScalar: Unicode.Scalar? = s[i + 1]
                var next = i + 2
                if s[i + 1] == "\\" {
                    highScalar = i + 2 < end && !s[i + 2].properties.isAlphabetic ? s[i + 2] : nil
                    next = i + 3
                }
                if let highScalar, highScalar.value < lowScalar.value {
                    return "range '\(lowScalar)-\(highScalar)' at offset \(low.offset) is out of order"
                }
                items.append((nil, i))
                i = next
            } else {
                items.append((s[i], i))
                i += 1
            }
            first = false
        }
        return nil
    }
}
