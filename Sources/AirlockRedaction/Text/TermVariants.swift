/// The everyday spellings of a dictionary term, and the suffixes that still name it.
enum TermVariants {
    /// Separators a multi-word term may be written with as literals; the empty one gives `ProjectFalcon`, the line
    /// break a term wrapped at the end of a line. Other runs of whitespace and dashes of every kind are read as one
    /// space or one dash where `GapTrigger` finds them.
    static let separators = [" ", "-", "_", ".", "", "\n"]

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
    /// What may stand between two words of a term (`NormalizedText(readingGapsIn:)`).
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
    /// `suffixEnd`, other whitespace and dashes from `GapTrigger`, so they are not listed here.
    ///
    /// Without `variants`, the term as written and, when it holds spaces, the same with each run of spaces as a line
    /// break (other runs of whitespace read as one space where `GapTrigger` finds them).
    static func spellings(of term: String, variants: Bool) -> [String] {
        var result = [folded(term)]
        guard variants else {
            let wrapped = folded(term).split(separator: " ", omittingEmptySubsequences: true).joined(separator: "\n")
            if wrapped.contains("\n"), !result.contains(wrapped) { result.append(wrapped) }
            return result
        }
        let words = words(of: term, variants: true)
        if words.count > 1 {
            for separator in separators {
                let joined = folded(words.joined(separator: separator))
                if !result.contains(joined) { result.append(joined) }
            }
        }
        return result
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
