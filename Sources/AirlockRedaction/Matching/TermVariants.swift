/// The everyday spellings of a dictionary term, and the suffixes that still name it.
enum TermVariants {
    /// Separators a multi-word term may be written with; the empty one gives `ProjectFalcon`.
    static let separators = [" ", "-", "_", ".", ""]

    /// The term as written plus, for multi-word terms, the same words joined by each separator. Case variants come
    /// from caseless matching, possessives and version suffixes from `suffixEnd`, so they are not listed here.
    static func spellings(of term: String) -> [String] {
        let words = term.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "_" || $0 == "\t" }).map(String.init)
        var result = [term]
        if words.count > 1 {
            for separator in separators {
                let joined = words.joined(separator: separator)
                if !result.contains(joined) { result.append(joined) }
            }
        }
        return result
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
