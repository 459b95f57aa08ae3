import Foundation

/// Percent-encoding (`%XX`), shared by form bodies (which decode every name and value) and by the text of JSON /
/// NDJSON strings and text bodies (which are also matched as decoded when they hold an escape; see
/// `RedactionSession.redactPercentEncoded`).
enum PercentEscapes {
    /// Text percent-decoded for matching, with where each decoded byte came from.
    struct Decoded {
        var bytes: [UInt8] = []
        /// `origins[i]`: the offset in the source of the first source byte of decoded byte `i`; `origins[count]` is
        /// the end of the source. A decoded span `s..<e` came from `origins[s]..<origins[e]`.
        var origins: [Int] = []
    }

    /// Whether `p[lo..<hi]` holds `%` followed by two hex digits. `memchr` for the `%`, so text without one costs
    /// about a memory read.
    @inline(__always)
    static func containsEscape(_ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> Bool {
        firstEscape(p, from: lo, to: hi) != nil
    }

    /// The offset of the first `%XX` escape in `p[from..<to]`.
    static func firstEscape(_ p: UnsafePointer<UInt8>, from: Int, to hi: Int) -> Int? {
        var k = from
        while k + 3 <= hi {
            guard let found = memchr(p + k, 0x25, hi - 2 - k) else { return nil }
            let at = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - p
            if isEscape(p, at, hi) { return at }
            k = at + 1
        }
        return nil
    }

    /// Whether a `%XX` escape starts at `at` (below `hi`).
    @inline(__always)
    static func isEscape(_ p: UnsafePointer<UInt8>, _ at: Int, _ hi: Int) -> Bool {
        at + 3 <= hi && p[at] == 0x25 && JSONStringEscapes.hexValue(p[at + 1]) >= 0
            && JSONStringEscapes.hexValue(p[at + 2]) >= 0
    }

    /// Moves `start` and `end` out of any `%XX` escape they fall inside (`start` past it, `end` before it), so a match
    /// never keeps or replaces part of an escape (`%2Fwiki.corp…` must not become `%[REDACTED…`). `nil` when nothing
    /// is left.
    static func outsideEscapes(
        _ p: UnsafePointer<UInt8>,
        start: Int,
        end: Int,
        lo: Int,
        hi: Int
    ) -> Range<Int>? {
        var s = start
        var e = end
        if s - 1 >= lo, isEscape(p, s - 1, hi) {
            s += 2
        } else if s - 2 >= lo, isEscape(p, s - 2, hi) {
            s += 1
        }
        if e - 1 >= lo, e - 1 >= s, isEscape(p, e - 1, hi) {
            e -= 1
        } else if e - 2 >= lo, e - 2 >= s, isEscape(p, e - 2, hi) {
            e -= 2
        }
        return s < e ? s..<e : nil
    }

    /// Whether the byte before `at` ends a `%XX` escape (a separator for a match starting at `at`).
    @inline(__always)
    static func escapeEndsAt(_ p: UnsafePointer<UInt8>, _ at: Int, lo: Int, hi: Int) -> Bool {
        at - 3 >= lo && isEscape(p, at - 3, hi)
    }

    /// Decodes the `%XX` escapes of `p[lo..<hi]` (valid UTF-8) for matching. An escape is decoded only where the
    /// result stays valid UTF-8: an ASCII byte, or a complete, valid multi-byte sequence spelled by consecutive
    /// escapes (`%C3%A9`); any other escape (`%FF`, a lone `%C3`) reads as U+FFFD. `+` is not a space here.
    static func decodeForMatching(_ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> Decoded {
        var out = Decoded()
        out.bytes.reserveCapacity(hi - lo)
        out.origins.reserveCapacity(hi - lo + 1)
        var k = lo
        var sequence: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        while k < hi {
            guard isEscape(p, k, hi) else {
                out.bytes.append(p[k])
                out.origins.append(k)
                k += 1
                continue
            }
            let b0 = UInt8(JSONStringEscapes.hexValue(p[k + 1]) << 4 | JSONStringEscapes.hexValue(p[k + 2]))
            var length = 1
            if b0 >= 0x80 {
                length = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2
                let valid = withUnsafeMutableBytes(of: &sequence) { raw -> Bool in
                    let s = raw.bindMemory(to: UInt8.self)
                    for m in 0..<length {
                        let at = k + 3 * m
                        guard isEscape(p, at, hi) else { return false }
                        s[m] = UInt8(JSONStringEscapes.hexValue(p[at + 1]) << 4 | JSONStringEscapes.hexValue(p[at + 2]))
                    }
                    return UTF8Text.sequenceLength(UnsafePointer(s.baseAddress!), 0, length) == length
                }
                if !valid {
                    // Not a character: read as U+FFFD (a separator between words, as a decoder shows it); the
                    // escape itself is never part of a match, so it leaves as written.
                    out.bytes += [0xEF, 0xBF, 0xBD]
                    out.origins += [k, k + 1, k + 2]
                    k += 3
                    continue
                }
            }
            withUnsafeBytes(of: &sequence) { raw in
                for m in 0..<length {
                    out.bytes.append(length == 1 ? b0 : raw[m])
                    out.origins.append(k + 3 * m)
                }
            }
            k += 3 * length
        }
        out.origins.append(hi)
        return out
    }

    /// Strictly percent-decodes `p[start..<end]` (`+` is a space when `plusIsSpace`). `nil` when an escape is
    /// truncated or not hex: the offset of that `%`.
    static func decodeStrict(
        _ p: UnsafePointer<UInt8>,
        _ start: Int,
        _ end: Int,
        plusIsSpace: Bool
    ) -> Result<[UInt8], MalformedEscape> {
        var out = [UInt8]()
        out.reserveCapacity(end - start)
        var k = start
        while k < end {
            let b = p[k]
            if plusIsSpace, b == UInt8(ascii: "+") {
                out.append(0x20)
                k += 1
            } else if b == UInt8(ascii: "%") {
                guard k + 3 <= end else { return .failure(MalformedEscape(offset: k, truncated: true)) }
                let high = JSONStringEscapes.hexValue(p[k + 1])
                let low = JSONStringEscapes.hexValue(p[k + 2])
                guard high >= 0, low >= 0 else { return .failure(MalformedEscape(offset: k, truncated: false)) }
                out.append(UInt8(high << 4 | low))
                k += 3
            } else {
                out.append(b)
                k += 1
            }
        }
        return .success(out)
    }

    struct MalformedEscape: Error {
        var offset: Int
        var truncated: Bool
    }

    /// Percent-encodes everything but unreserved characters (`A-Za-z0-9-_.~`); a space becomes `+` when
    /// `spaceAsPlus` (forms), else `%20`.
    static func encode(_ bytes: [UInt8], spaceAsPlus: Bool) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if TermVariants.isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "~")
            {
                out.append(b)
            } else if b == 0x20, spaceAsPlus {
                out.append(UInt8(ascii: "+"))
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return out
    }
}
