/// Byte-level helpers for UTF-8 text: validation, the zero-width characters that could hide a term, and word
/// boundaries. All work on raw buffers so the hot paths never build `String`s.
enum UTF8Text {
    struct Summary {
        var valid: Bool
        var hasNonASCII: Bool
        var hasZeroWidth: Bool
    }

    /// Validates `bytes` as UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF) and notes whether it contains
    /// characters that are invisible to a reader (see `zeroWidthLength`).
    static func summarize(_ bytes: UnsafeBufferPointer<UInt8>) -> Summary {
        var summary = Summary(valid: true, hasNonASCII: false, hasZeroWidth: false)
        guard let base = bytes.baseAddress else { return summary }
        let count = bytes.count
        var i = 0
        while i < count {
            // Eight ASCII bytes at a time.
            if i + 8 <= count {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            let byte = base[i]
            if byte < 0x80 {
                i += 1
                continue
            }
            summary.hasNonASCII = true
            let length = sequenceLength(base, i, count)
            if length == 0 {
                summary.valid = false
                return summary
            }
            if zeroWidthLength(base, i, count) > 0 { summary.hasZeroWidth = true }
            i += length
        }
        return summary
    }

    /// The length of the valid UTF-8 sequence starting at `i`, or 0 when it is invalid.
    @inline(__always)
    static func sequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let b0 = p[i]
        if b0 < 0x80 { return 1 }
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < count && p[i + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return cont(1) ? 2 : 0
        case 0xE0:
            return cont(1) && p[i + 1] >= 0xA0 && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return cont(1) && cont(2) ? 3 : 0
        case 0xED:
            return cont(1) && p[i + 1] < 0xA0 && cont(2) ? 3 : 0
        case 0xF0:
            return cont(1) && p[i + 1] >= 0x90 && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3:
            return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4:
            return cont(1) && p[i + 1] < 0x90 && cont(2) && cont(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// If a character a reader cannot see starts at `i` (zero-width space/joiners, word joiner, BOM, soft hyphen),
    /// its byte length; otherwise 0. Matching ignores these so `Night\u{200B}ingale` is still `Nightingale`.
    @inline(__always)
    static func zeroWidthLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let b0 = p[i]
        if b0 == 0xC2, i + 1 < count, p[i + 1] == 0xAD { return 2 }  // U+00AD
        guard i + 2 < count else { return 0 }
        if b0 == 0xE2 {
            let b1 = p[i + 1]
            let b2 = p[i + 2]
            if b1 == 0x80, b2 >= 0x8B, b2 <= 0x8D { return 3 }  // U+200B..U+200D
            if b1 == 0x81, b2 == 0xA0 { return 3 }  // U+2060
        } else if b0 == 0xEF, p[i + 1] == 0xBB, p[i + 2] == 0xBF {
            return 3  // U+FEFF
        }
        return 0
    }

    /// Decodes the scalar starting at `i` (input already validated).
    @inline(__always)
    static func scalar(_ p: UnsafePointer<UInt8>, at i: Int, count: Int) -> (Unicode.Scalar, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (Unicode.Scalar(UInt8(b0)), 1) }
        if b0 < 0xE0, i + 1 < count {
            return (Unicode.Scalar(((b0 & 0x1F) << 6) | UInt32(p[i + 1] & 0x3F)) ?? " ", 2)
        }
        if b0 < 0xF0, i + 2 < count {
            let v = ((b0 & 0x0F) << 12) | (UInt32(p[i + 1] & 0x3F) << 6) | UInt32(p[i + 2] & 0x3F)
            return (Unicode.Scalar(v) ?? " ", 3)
        }
        if i + 3 < count {
            let v =
                ((b0 & 0x07) << 18) | (UInt32(p[i + 1] & 0x3F) << 12) | (UInt32(p[i + 2] & 0x3F) << 6)
                | UInt32(p[i + 3] & 0x3F)
            return (Unicode.Scalar(v) ?? " ", 4)
        }
        return (" ", 1)
    }

    /// The start of the scalar that ends just before `end`.
    @inline(__always)
    static func previousScalarStart(_ p: UnsafePointer<UInt8>, before end: Int) -> Int {
        var i = end - 1
        while i > 0, p[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    /// Walks back `scalars` characters from `end`; `nil` if that passes the start of the buffer.
    @inline(__always)
    static func start(_ p: UnsafePointer<UInt8>, end: Int, scalars: Int, floor: Int) -> Int? {
        var i = end
        var remaining = scalars
        while remaining > 0 {
            if i <= floor { return nil }
            i -= 1
            if p[i] & 0xC0 != 0x80 { remaining -= 1 }
        }
        return i
    }

    /// Whether the character is part of a word for whole-word matching: letters and digits. `_`, `-`, `.` and
    /// apostrophes are boundaries, so `project_falcon` and `Nightingale's` still match.
    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// Whether a word character sits just before `start` (within `floor..<end`).
    @inline(__always)
    static func wordBefore(_ p: UnsafePointer<UInt8>, _ start: Int, floor: Int, count: Int) -> Bool {
        guard start > floor else { return false }
        let s = previousScalarStart(p, before: start)
        return isWordScalar(scalar(p, at: s, count: count).0)
    }

    /// Whether a word character starts at `end`.
    @inline(__always)
    static func wordAt(_ p: UnsafePointer<UInt8>, _ end: Int, count: Int) -> Bool {
        guard end < count else { return false }
        return isWordScalar(scalar(p, at: end, count: count).0)
    }

    /// The number of scalars in `bytes`.
    static func scalarCount(_ bytes: some Collection<UInt8>) -> Int {
        bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }
}

/// A buffer with zero-width characters removed, and for every byte kept, where it was in the original.
struct NormalizedText {
    var bytes: [UInt8]
    var origin: [Int32]

    init(removingZeroWidthFrom p: UnsafeBufferPointer<UInt8>) {
        bytes = []
        origin = []
        bytes.reserveCapacity(p.count)
        origin.reserveCapacity(p.count)
        guard let base = p.baseAddress else { return }
        var i = 0
        while i < p.count {
            let skip = UTF8Text.zeroWidthLength(base, i, p.count)
            if skip > 0 {
                i += skip
                continue
            }
            bytes.append(base[i])
            origin.append(Int32(i))
            i += 1
        }
    }

    /// Maps a span of `bytes` back to the original buffer.
    func originalRange(_ start: Int, _ end: Int) -> Range<Int> {
        Int(origin[start])..<(Int(origin[end - 1]) + 1)
    }
}
