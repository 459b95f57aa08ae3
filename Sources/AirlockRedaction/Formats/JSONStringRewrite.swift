import AirlockSupport

/// A JSON string that held escapes, written back once its decoded text changed: every character before the first
/// change and after the last one keeps the escape it came with (`\u004e`, `\/`, `\u00e9` stay as written), and the
/// text between is encoded the way the string was (`\/` for `/` when the string escaped a slash, `\uXXXX` for every
/// non-ASCII character when it was ASCII-only, `\u003c` `\u003e` `\u0026` when it escaped those for HTML), with
/// U+2028 and U+2029 always escaped. A reader decoding the new string reads exactly the redacted text; nothing in it
/// reads differently in a JavaScript or HTML context than the string it replaces.
enum JSONStringRewrite {
    /// `result` (valid UTF-8, the new decoded text) as the content of the string whose content was `raw` (between
    /// the quotes, escapes valid).
    // Over 80 lines: one pass over the source's units from both ends, sharing the reused decode buffer.
    static func encode(_ result: [UInt8], replacing raw: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard let p = raw.baseAddress, raw.count > 0 else { return JSONRedactor.encodeString(result) }
        // Each unit of the source: one byte, or one escape (a surrogate pair is one unit).
        var units: [Range<Int>] = []
        units.reserveCapacity(raw.count)
        var style = Style()
        var k = 0
        while k < raw.count {
            guard raw[k] == UInt8(ascii: "\\"), k + 1 < raw.count else {
                if raw[k] >= 0x80 { style.rawNonASCII = true }
                units.append(k..<k + 1)
                k += 1
                continue
            }
            var length = 2
            switch raw[k + 1] {
            case UInt8(ascii: "u"):
                length = 6
                let value = k + 6 <= raw.count ? hex4(p, k + 2) : 0
                if value >= 0xD800, value < 0xDC00, k + 12 <= raw.count, raw[k + 6] == UInt8(ascii: "\\") {
                    length = 12
                }
                if value >= 0x80 { style.escapedNonASCII = true }
                if value == 0x3C || value == 0x3E || value == 0x26 { style.html = true }
            case UInt8(ascii: "/"):
                style.slash = true
            default:
                break
            }
            units.append(k..<min(k + length, raw.count))
            k += length
        }
        // Whether unit `unit` of the source decodes to `result[at..<at + n]`, and n (0: it does not). A byte stands
        // for itself; an escape is decoded into `decoded` (reused: nothing is allocated per unit).
        var decoded: [UInt8] = []
        decoded.reserveCapacity(8)
        func decodedCount(_ unit: Range<Int>) -> Int {
            if unit.count == 1 { return 1 }
            do {
                try JSONStringEscapes.decode(p, from: unit.lowerBound, to: unit.upperBound, into: &decoded)
            } catch {
                return 0
            }
            return decoded.count
        }
        func matches(_ unit: Range<Int>, at: Int, backwards: Bool) -> Int {
            if unit.count == 1 {
                let at = backwards ? at - 1 : at
                return at >= 0 && at < result.count && result[at] == raw[unit.lowerBound] ? 1 : 0
            }
            let n = decodedCount(unit)
            guard n > 0 else { return 0 }
            let lo = backwards ? at - n : at
            guard lo >= 0, lo + n <= result.count, result[lo..<lo + n].elementsEqual(decoded) else { return 0 }
            return n
        }
        // The units kept from the front, and the result bytes they stand for.
        var front = 0
        var frontBytes = 0
        while front < units.count {
            let n = matches(units[front], at: frontBytes, backwards: false)
            guard n > 0 else { break }
            front += 1
            frontBytes += n
        }
        // Never end inside a character: the text between starts at a character's first byte.
        while front > 0, frontBytes < result.count, result[frontBytes] & 0xC0 == 0x80 {
            front -= 1
            frontBytes -= decodedCount(units[front])
        }
        var back = units.count
        var backBytes = result.count
        while back > front {
            let n = matches(units[back - 1], at: backBytes, backwards: true)
            guard n > 0, backBytes - n >= frontBytes else { break }
            back -= 1
            backBytes -= n
        }
        while back < units.count, backBytes < result.count, result[backBytes] & 0xC0 == 0x80 {
            backBytes += decodedCount(units[back])
            back += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + result.count)
        if front > 0 { out += raw[0..<units[front - 1].upperBound] }
        style.append(result[frontBytes..<backBytes], to: &out)
        if back < units.count { out += raw[units[back].lowerBound..<raw.count] }
        return out
    }

    private static func hex4(_ p: UnsafePointer<UInt8>, _ at: Int) -> Int {
        (0..<4).reduce(0) { $0 << 4 | max(0, JSONStringEscapes.hexValue(p[at + $1])) }
    }

    /// How the source string escaped what it did not have to.
    struct Style {
        var slash = false
        var html = false
        var escapedNonASCII = false
        var rawNonASCII = false

        /// `bytes` (whole UTF-8 characters) as string content in this style. Runs that need no escape of the style's
        /// own are written by `JSONRedactor.appendEncoded` (quotes, backslashes, controls) in one piece.
        func append(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
            let asciiOnly = escapedNonASCII && !rawNonASCII
            bytes.withUnsafeBufferPointer { b in
                var run = 0
                func flush(_ upTo: Int) {
                    if upTo > run { JSONString.appendEscaped(UnsafeBufferPointer(rebasing: b[run..<upTo]), to: &out) }
                }
                var k = 0
                while k < b.count {
                    let lead = b[k]
                    if lead < 0x80 {
                        if lead == 0x2F && slash {
                            flush(k)
                            out += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
                            run = k + 1
                        } else if html && (lead == 0x3C || lead == 0x3E || lead == 0x26) {
                            flush(k)
                            Self.escape(UInt32(lead), to: &out)
                            run = k + 1
                        }
                        k += 1
                        continue
                    }
                    // A whole character (the text is valid UTF-8): its length and scalar value.
                    let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
                    var v = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                    for i in 1..<min(length, b.count - k) { v = v << 6 | UInt32(b[k + i] & 0x3F) }
                    if v == 0x2028 || v == 0x2029 || asciiOnly {
                        flush(k)
                        if v >= 0x10000 {
                            Self.escape(0xD800 + ((v - 0x10000) >> 10), to: &out)
                            Self.escape(0xDC00 + ((v - 0x10000) & 0x3FF), to: &out)
                        } else {
                            Self.escape(v, to: &out)
                        }
                        run = k + length
                    }
                    k += length
                }
                flush(b.count)
            }
        }

        private static func escape(_ unit: UInt32, to out: inout [UInt8]) {
            out.append(UInt8(ascii: "\\"))
            out.append(UInt8(ascii: "u"))
            for shift in stride(from: 12, through: 0, by: -4) {
                out.append(Hex.digit(UInt8(unit >> UInt32(shift) & 0xF)))
            }
        }
    }
}
