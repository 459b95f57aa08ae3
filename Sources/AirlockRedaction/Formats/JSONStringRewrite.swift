/// A JSON string that held escapes, written back once its decoded text changed: every character before the first
/// change and after the last one keeps the escape it came with (`\u004e`, `\/`, `\u00e9` stay as written), and the
/// text between is encoded the way the string was (`\/` for `/` when the string escaped a slash, `\uXXXX` for every
/// non-ASCII character when it was ASCII-only, `\u003c` `\u003e` `\u0026` when it escaped those for HTML), with
/// U+2028 and U+2029 always escaped. A reader decoding the new string reads exactly the redacted text; nothing in it
/// reads differently in a JavaScript or HTML context than the string it replaces.
enum JSONStringRewrite {
    /// `result` (valid UTF-8, the new decoded text) as the content of the string whose content was `raw` (between
    /// the quotes, escapes valid).
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
        var decoded: [UInt8] = []
        func decodedUnit(_ unit: Range<Int>) -> [UInt8] {
            if unit.count == 1 { return [raw[unit.lowerBound]] }
            do {
                try JSONStringEscapes.decode(p, from: unit.lowerBound, to: unit.upperBound, into: &decoded)
            } catch {
                return []
            }
            return decoded
        }
        // The units kept from the front, and the result bytes they stand for.
        var front = 0
        var frontBytes = 0
        while front < units.count {
            let bytes = decodedUnit(units[front])
            guard !bytes.isEmpty, frontBytes + bytes.count <= result.count,
                result[frontBytes..<frontBytes + bytes.count].elementsEqual(bytes)
            else { break }
            front += 1
            frontBytes += bytes.count
        }
        // Never end inside a character: the text between starts at a character's first byte.
        while front > 0, frontBytes < result.count, result[frontBytes] & 0xC0 == 0x80 {
            front -= 1
            frontBytes -= decodedUnit(units[front]).count
        }
        var back = units.count
        var backBytes = result.count
        while back > front {
            let bytes = decodedUnit(units[back - 1])
            guard !bytes.isEmpty, backBytes - bytes.count >= frontBytes,
                result[(backBytes - bytes.count)..<backBytes].elementsEqual(bytes)
            else { break }
            back -= 1
            backBytes -= bytes.count
        }
        while back < units.count, backBytes < result.count, result[backBytes] & 0xC0 == 0x80 {
            backBytes += decodedUnit(units[back]).count
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

        /// `bytes` (whole UTF-8 characters) as string content in this style.
        func append(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
            let asciiOnly = escapedNonASCII && !rawNonASCII
            let hex = Array("0123456789abcdef".utf8)
            func escape(_ unit: UInt32) {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
                for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int(unit >> UInt32(shift) & 0xF)]) }
            }
            var plain: [UInt8] = []
            func flush() {
                if !plain.isEmpty {
                    JSONRedactor.appendEncoded(plain, to: &out)
                    plain.removeAll(keepingCapacity: true)
                }
            }
            for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
                let v = scalar.value
                if v == 0x2F && slash {
                    flush()
                    out += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
                } else if html && (v == 0x3C || v == 0x3E || v == 0x26) {
                    flush()
                    escape(v)
                } else if v == 0x2028 || v == 0x2029 || (v >= 0x80 && asciiOnly) {
                    flush()
                    if v >= 0x10000 {
                        escape(0xD800 + ((v - 0x10000) >> 10))
                        escape(0xDC00 + ((v - 0x10000) & 0x3FF))
                    } else {
                        escape(v)
                    }
                } else {
                    plain += Array(String(scalar).utf8)
                }
            }
            flush()
        }
    }
}
