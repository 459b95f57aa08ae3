/// The everyday spellings of a dictionary term, and the suffixes that still name it.
enum TermVariants {
    /// Separators a multi-word term may be written with as literals; the empty one gives `ProjectFalcon`. Runs of
    /// whitespace and dashes of every kind come from `gapExpression`.
    static let separators = [" ", "-", "_", ".", ""]

    /// Whitespace between words: Unicode's White_Space characters (tab, line breaks, no-break spaces, the
    /// typographic spaces U+2000..U+200A, U+202F, U+205F, the ideographic space).
    static let whitespace: [ClosedRange<UInt32>] = [
        0x09...0x0D, 0x20...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ]
    /// Hyphens and dashes: ASCII `-`, U+2010..U+2015 (hyphen, non-breaking hyphen, figure dash, en and em dash,
    /// horizontal bar), the minus sign, the vertical, small and fullwidth forms.
    static let dashes: [ClosedRange<UInt32>] = [
        0x2D...0x2D, 0x2010...0x2015, 0x2212...0x2212, 0xFE31...0xFE32, 0xFE58...0xFE58, 0xFE63...0xFE63,
        0xFF0D...0xFF0D,
    ]

    static func isWhitespace(_ v: UInt32) -> Bool { whitespace.contains { $0.contains(v) } }
    static func isDash(_ v: UInt32) -> Bool { dashes.contains { $0.contains(v) } }
    /// What may stand between two words of a term in a `gapExpression` match.
    static func isGap(_ v: UInt32) -> Bool { isWhitespace(v) || isDash(v) }

    /// The words of a term: split on whitespace and dashes, and with `variants` on `_` too.
    static func words(of term: String, variants: Bool) -> [String] {
        var words: [String] = []
        var word = ""
        for scalar in term.unicodeScalars {
            if isGap(scalar.value) || (variants && scalar == "_") {
                if !word.isEmpty { words.append(word) }
                word = ""
            } else {
                word.unicodeScalars.append(scalar)
            }
        }
        if !word.isEmpty { words.append(word) }
        return words
    }

    /// The term as written plus, for multi-word terms, the same words joined by each separator, each as matching
    /// reads it (`folded`). Case variants come from caseless matching, possessives and version suffixes from
    /// `suffixEnd`, other whitespace and dashes from `gapExpression`, so they are not listed here.
    static func spellings(of term: String) -> [String] {
        let words = words(of: term, variants: true)
        var result = [folded(term)]
        if words.count > 1 {
            for separator in separators {
                let joined = folded(words.joined(separator: separator))
                if !result.contains(joined) { result.append(joined) }
            }
        }
        return result
    }

    /// For a term of several words, an expression matching them separated as a reader would still read the term:
    /// with `variants`, any run of whitespace, or one dash with any whitespace around it, between any two words;
    /// without, each run of whitespace in the term matches any run of whitespace and each dash any one dash. `nil` for
    /// a single word. Its matches start where `gapStart` walks back to, given the scalar counts of `words`.
    static func gapExpression(of term: String, variants: Bool) -> (expression: String, words: [Int32])? {
        let words = words(of: term, variants: variants).map(folded)
        guard words.count > 1 else { return nil }
        let space = "[" + classBody(whitespace) + "]"
        let dash = "[" + classBody(dashes) + "]"
        var gaps: [String] = []
        if variants {
            gaps = Array(repeating: "(?:\(space)+|\(space)*\(dash)\(space)*)", count: words.count - 1)
        } else {
            // The term's own separators, in order: a whitespace run, or a dash (a run of several dashes is kept).
            var inGap = false
            var current = ""
            for scalar in folded(term).unicodeScalars {
                if isWhitespace(scalar.value) {
                    if !inGap || !current.hasSuffix("+") { current += "\(space)+" }
                    inGap = true
                } else if isDash(scalar.value) {
                    current += dash
                    inGap = true
                } else if inGap {
                    gaps.append(current)
                    current = ""
                    inGap = false
                }
            }
            guard gaps.count == words.count - 1 else { return nil }
        }
        var expression = escapeLiteral(words[0])
        for (k, gap) in gaps.enumerated() { expression += gap + escapeLiteral(words[k + 1]) }
        return (expression, words.map { Int32($0.unicodeScalars.count) })
    }

    /// The start of a `gapExpression` match ending at `end`, walking back over its words (`words`: their scalar
    /// counts) and the whitespace and dashes between them; `nil` if that passes `floor`. Words neither start nor end
    /// with whitespace or a dash, so the walk finds the one start a match ending at `end` can have.
    static func gapStart(_ p: UnsafePointer<UInt8>, end: Int, words: [Int32], floor: Int, count: Int) -> Int? {
        var i = end
        for k in stride(from: words.count - 1, through: 0, by: -1) {
            guard let start = UTF8Text.start(p, end: i, scalars: Int(words[k]), floor: floor) else { return nil }
            i = start
            guard k > 0 else { break }
            let gapEnd = i
            while i > floor {
                let previous = UTF8Text.previousScalarStart(p, before: i)
                guard previous >= floor, isGap(UTF8Text.scalar(p, at: previous, count: count).0.value) else { break }
                i = previous
            }
            if i == gapEnd { return nil }
        }
        return i
    }

    /// `text` as matching reads it: invisible characters dropped, compatibility forms folded
    /// (`NormalizedText(foldingForMatching:)`).
    static func folded(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        var text = text
        return text.withUTF8 { bytes in
            String(decoding: NormalizedText(foldingForMatching: bytes).bytes, as: UTF8.self)
        }
    }

    /// A character class body (`\x{A0}\x{2000}-\x{200A}`) for scalar ranges.
    private static func classBody(_ ranges: [ClosedRange<UInt32>]) -> String {
        ranges.map { range in
            let low = "\\x{" + String(range.lowerBound, radix: 16) + "}"
            let high = "\\x{" + String(range.upperBound, radix: 16) + "}"
            return range.count == 1 ? low : low + "-" + high
        }.joined()
    }

    /// A Vectorscan expression matching `text` literally: ASCII punctuation hex-escaped, other characters as is.
    static func escapeLiteral(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let alnum = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
            if scalar.isASCII && !alnum {
                out += "\\x" + String(v, radix: 16).leftPadded(to: 2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static let modelWords: [[UInt8]] = [
        "instruct", "chat", "base", "preview", "mini", "pro", "turbo", "large", "small", "medium", "lite", "flash",
        "it", "alpha", "beta", "sft", "rlhf", "dpo", "exp", "latest", "internal",
    ].map { Array($0.utf8) }

    /// If a version or size suffix follows a term ending at `end` (`-v3`, `-v3-instruct`, `-7B`, ` v2.1`, `3`), the
    /// end of that suffix; otherwise `end`.
    static func suffixEnd(_ p: UnsafePointer<UInt8>, end: Int, limit: Int) -> Int {
        @inline(__always) func isDigit(_ i: Int) -> Bool { i < limit && p[i] >= 0x30 && p[i] <= 0x39 }
        @inline(__always) func lower(_ i: Int) -> UInt8 { p[i] | 0x20 }
        var i = end
        var spaced = false
        if i < limit, p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "_") || p[i] == UInt8(ascii: ".") {
            i += 1
        } else if i < limit, p[i] == UInt8(ascii: " ") {
            i += 1
            spaced = true
        }
        // Core: v<digits>(.<digits>)* or <digits>(.<digits>)*[bmkt]?
        var core = i
        var versioned = false
        if core < limit, lower(core) == UInt8(ascii: "v"), isDigit(core + 1) {
            core += 1
            versioned = true
        }
        guard isDigit(core) else { return end }
        while isDigit(core) { core += 1 }
        while core + 1 < limit, p[core] == UInt8(ascii: "."), isDigit(core + 1) {
            core += 1
            while isDigit(core) { core += 1 }
        }
        var sized = false
        if core < limit,
            [UInt8(ascii: "b"), UInt8(ascii: "m"), UInt8(ascii: "k"), UInt8(ascii: "t")].contains(lower(core))
        {
            core += 1
            sized = true
        }
        // A bare number after a space ("Nightingale 3 times") is not a version.
        if spaced && !versioned && !sized { return end }
        // A letter or digit right after the core means this was not a suffix ("-3rd", "-v3x").
        if core < limit, isAlnum(p[core]) { return end }
        // Model-name words: -instruct, -chat, ...
        var tail = core
        while tail < limit, p[tail] == UInt8(ascii: "-") || p[tail] == UInt8(ascii: "_") {
            var w = tail + 1
            while w < limit, isAlnum(p[w]) { w += 1 }
            let length = w - tail - 1
            guard length > 0 else { break }
            let known = modelWords.contains { word in
                word.count == length && (0..<length).allSatisfy { (p[tail + 1 + $0] | 0x20) == word[$0] }
            }
            guard known else { break }
            tail = w
        }
        return tail
    }

    @inline(__always)
    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
