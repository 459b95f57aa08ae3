internal import CAirlockSIMD

/// Byte-level helpers for UTF-8 text: validation, the zero-width characters that could hide a term, and word
/// boundaries. All work on raw buffers so the hot paths never build `String`s.
enum UTF8Text {
    struct Summary {
        var valid: Bool
        var hasNonASCII: Bool
        var hasZeroWidth: Bool
    }

    /// Validates `bytes` as UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF) and notes whether it contains
    /// characters matching does not read as written (`hasZeroWidth`; see `foldedLength`).
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
            if foldedLength(base, i, count) > 0 { summary.hasZeroWidth = true }
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

    /// If a character matching does not read as written starts at `i`, its byte length; otherwise 0. Those are the
    /// characters a reader cannot see (zero-width space/joiners, word joiner, BOM, soft hyphen), which matching
    /// ignores so `Night\u{200B}ingale` is still `Nightingale`, and compatibility forms, which it reads as their NFKC
    /// form (`ﬁ` as `fi`, `Ｆ` as `F`, the Kelvin sign as `K`): `CAirlockSIMD_scalar_folds`, the table the C JSON
    /// walk uses too. A segment holding one is matched as `NormalizedText(foldingForMatching:)`.
    @inline(__always)
    static func foldedLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let b0 = p[i]
        guard b0 >= 0xC2 else { return 0 }
        let length = sequenceLength(p, i, count)
        guard length > 0 else { return 0 }
        return CAirlockSIMD_scalar_folds(scalar(p, at: i, count: count).0.value) != 0 ? length : 0
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

/// A buffer as matching reads it, and for every byte of it, the span of the original character it came from.
struct NormalizedText {
    var bytes: [UInt8]
    /// `origin[k]..<originEnd[k]`: the bytes of the original character that byte `k` of `bytes` came from.
    var origin: [Int32]
    var originEnd: [Int32]

    /// Invisible characters removed, everything else as written: the spelling a reader sees.
    init(removingZeroWidthFrom p: UnsafeBufferPointer<UInt8>) {
        self.init(p, fold: false, gaps: false)
    }

    /// Invisible characters removed and compatibility forms folded (`UTF8Text.foldedLength`): the text matching
    /// scans.
    init(foldingForMatching p: UnsafeBufferPointer<UInt8>) {
        self.init(p, fold: true, gaps: false)
    }

    /// As `foldingForMatching`, and every run of whitespace and dashes (`TermVariants.isGap`) read as one space when
    /// it holds no dash, as `-` when it holds one; a run of several dashes stays as written. The text `GapTrigger`
    /// windows are scanned as.
    init(readingGapsIn p: UnsafeBufferPointer<UInt8>) {
        self.init(p, fold: true, gaps: true)
    }

    private init(_ p: UnsafeBufferPointer<UInt8>, fold: Bool, gaps: Bool) {
        bytes = []
        origin = []
        originEnd = []
        bytes.reserveCapacity(p.count)
        origin.reserveCapacity(p.count)
        originEnd.reserveCapacity(p.count)
        guard let base = p.baseAddress else { return }
        var i = 0
        while i < p.count {
            if gaps, let run = Self.gapRun(base, i, p.count) {
                if run.dashes <= 1 {
                    bytes.append(run.dashes == 0 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
                    origin.append(Int32(i))
                    originEnd.append(Int32(run.end))
                } else {
                    for k in i..<run.end {
                        bytes.append(base[k])
                        origin.append(Int32(k))
                        originEnd.append(Int32(k + 1))
                    }
                }
                i = run.end
                continue
            }
            let length = UTF8Text.foldedLength(base, i, p.count)
            if length > 0 {
                var replacement: UnsafePointer<UInt8>?
                let count = CAirlockSIMD_fold(UTF8Text.scalar(base, at: i, count: p.count).0.value, &replacement)
                if count == 0 || (fold && count > 0) {
                    for k in 0..<count {
                        bytes.append(replacement![k])
                        origin.append(Int32(i))
                        originEnd.append(Int32(i + length))
                    }
                    i += length
                    continue
                }
                // Kept as written: its bytes below, each mapped to the whole character.
                for k in 0..<length {
                    bytes.append(base[i + k])
                    origin.append(Int32(i))
                    originEnd.append(Int32(i + length))
                }
                i += length
                continue
            }
            bytes.append(base[i])
            origin.append(Int32(i))
            originEnd.append(Int32(i + 1))
            i += 1
        }
    }

    /// The run of whitespace and dashes (invisible characters inside it included) starting at `i`, and how many
    /// dashes it holds; nil when no whitespace or dash starts at `i`.
    private static func gapRun(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> (end: Int, dashes: Int)? {
        var k = i
        var dashes = 0
        var any = false
        while k < count {
            let (scalar, length) = UTF8Text.scalar(p, at: k, count: count)
            if TermVariants.isDash(scalar.value) {
                dashes += 1
            } else if !TermVariants.isWhitespace(scalar.value)
                && !(any && UTF8Text.foldedLength(p, k, count) > 0
                    && CAirlockSIMD_fold(scalar.value, nil) == 0)
            {
                break
            }
            any = true
            k += length
        }
        return any ? (k, dashes) : nil
    }

    /// Maps a span of `bytes` back to the original buffer: whole original characters.
    func originalRange(_ start: Int, _ end: Int) -> Range<Int> {
        Int(origin[start])..<Int(originEnd[end - 1])
    }
}
