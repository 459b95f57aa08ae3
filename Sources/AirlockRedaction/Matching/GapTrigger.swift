/// Where the words of a term may be separated by something other than the spellings compiled as literals (one space,
/// `-`, `_`, `.`, nothing, one line break): a tab, a carriage return, several spaces or line breaks, a no-break or
/// other Unicode space, a Unicode dash, a dash with spaces around it.
///
/// A few expressions in the single-pass database (one id) report those places; the matcher then reads a window around
/// each as `NormalizedText(readingGapsIn:)` (every whitespace run as one space, a dash with whitespace around it as
/// the dash) and scans it again for terms. The same expressions whatever the number of terms: an expression per term
/// with the gaps spelled out took seconds more to compile for 10,000 terms.
///
/// An ASCII gap right after `.`, `!`, `?`, `:` or `;` is a sentence or clause break and is not reported (a blank
/// line after a sentence is the most common run of whitespace in text); neither is a lone line break, which the
/// literals match, and which the JSON walks put between strings.
enum GapTrigger {
    /// Byte-oriented (no UTF-8 flag): the non-ASCII spaces and dashes as their UTF-8 bytes. Several expressions under
    /// one id, each a short literal set behind at most one class: one expression with the class before an
    /// alternation of them made Vectorscan run an automaton over every byte (the single pass fell from about 800 to
    /// about 130 MB/s).
    static let expressions: [String] = {
        let notAfter = #"[^.!?:;\t-\r\x20\-]"#
        let nonASCII = [
            #"\xc2[\x85\xa0]"#,  // U+0085, U+00A0
            #"\xe1\x9a\x80"#,  // U+1680
            #"\xe2\x80[\x80-\x8a\x90-\x95\xa8\xa9\xaf]"#,  // U+2000..200A, U+2010..2015, U+2028, U+2029, U+202F
            #"\xe2\x81\x9f"#,  // U+205F
            #"\xe2\x88\x92"#,  // U+2212
            #"\xe3\x80\x80"#,  // U+3000
            #"\xef\xb8[\xb1\xb2]"#,  // U+FE31, U+FE32
            #"\xef\xb9[\x98\xa3]"#,  // U+FE58, U+FE63
            #"\xef\xbc\x8d"#,  // U+FF0D
        ]
        return [
            notAfter + #"[\t\x0b\x0c\r]"#,  // a tab, vertical tab, form feed or carriage return
            notAfter + #"[\n\x20][\t-\r\x20\-]"#,  // a space or line break, then more whitespace or a dash
            notAfter + #"-[\t-\r\x20]"#,  // a dash, then whitespace
            "(?:" + nonASCII.joined(separator: "|") + ")",
        ]
    }()

    /// The window around a gap reported at `end` in which a term crossing it lies: `reach` characters either side
    /// (a whitespace run counts as one), widened to word boundaries so that whole-word checks inside the window
    /// judge as they would in the whole text. `slack` more characters after, for version suffixes.
    static func window(
        _ p: UnsafePointer<UInt8>,
        end: Int,
        reach: Int,
        lo: Int,
        hi: Int
    ) -> Range<Int> {
        let slack = 64
        var start = max(lo, min(end, hi))
        // `start` may be `hi` (a gap reported at the end of the text): no byte to read there.
        while start > lo, start < hi, p[start] & 0xC0 == 0x80 { start -= 1 }
        var finish = start
        var counted = 0
        while start > lo, counted < reach {
            start = skipBack(p, start, lo: lo)
            counted += 1
        }
        while start > lo, UTF8Text.wordBefore(p, start, floor: lo, count: hi) {
            start = UTF8Text.previousScalarStart(p, before: start)
        }
        counted = 0
        while finish < hi, counted < reach + slack {
            finish = skipForward(p, finish, hi: hi)
            counted += 1
        }
        while finish < hi, UTF8Text.wordAt(p, finish, count: hi) {
            finish += UTF8Text.scalar(p, at: finish, count: hi).1
        }
        return start..<finish
    }

    /// One character back from `i`, or a whole run of whitespace and dashes.
    private static func skipBack(_ p: UnsafePointer<UInt8>, _ i: Int, lo: Int) -> Int {
        var k = max(lo, UTF8Text.previousScalarStart(p, before: i))
        guard TermVariants.isGap(UTF8Text.scalar(p, at: k, count: i).0.value) else { return k }
        while k > lo {
            let previous = max(lo, UTF8Text.previousScalarStart(p, before: k))
            guard TermVariants.isGap(UTF8Text.scalar(p, at: previous, count: k).0.value) else { break }
            k = previous
        }
        return k
    }

    /// One character on from `i`, or a whole run of whitespace and dashes.
    private static func skipForward(_ p: UnsafePointer<UInt8>, _ i: Int, hi: Int) -> Int {
        let (scalar, length) = UTF8Text.scalar(p, at: i, count: hi)
        var k = min(hi, i + length)
        guard TermVariants.isGap(scalar.value) else { return k }
        while k < hi {
            let (next, nextLength) = UTF8Text.scalar(p, at: k, count: hi)
            guard TermVariants.isGap(next.value) else { break }
            k = min(hi, k + nextLength)
        }
        return k
    }
}
