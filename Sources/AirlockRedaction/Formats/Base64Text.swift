/// Base64 text as an embedded payload writes it (RFC 4648 §4 standard or §5 URL-safe alphabet, with or without
/// padding, optionally wrapped into lines), decoded strictly and written back the same way.
struct Base64Text {
    enum Alphabet {
        case standard
        case urlSafe
    }

    var alphabet: Alphabet
    var padded: Bool
    /// Characters per line and the line break after each full line (`nil`: one line).
    var wrap: (width: Int, lineBreak: [UInt8])?

    private static let standardDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafeDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The value of a digit of either alphabet (0...63), or -1.
    @inline(__always)
    static func digit(_ b: UInt8) -> Int {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(b - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(b - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(b - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
        default: -1
        }
    }

    /// Decodes `text` strictly: one alphabet, padding only at the end and only to a multiple of four, line breaks
    /// (CR, LF; spaces and tabs too when `spaces`) ignored. Returns the bytes and how the text was written, or `nil`
    /// when it is not base64.
    static func decode(
        _ text: UnsafeBufferPointer<UInt8>,
        spaces: Bool = false
    ) -> (bytes: [UInt8], layout: Base64Text)? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 4 * 3 + 3)
        var standardOnly = false
        var urlOnly = false
        var padding = 0
        var digits = 0
        var accumulator: UInt32 = 0
        var firstLine = -1
        var lineBreak: [UInt8] = []
        for (k, b) in text.enumerated() {
            if b == 0x0A || b == 0x0D || (spaces && (b == 0x20 || b == 0x09)) {
                if firstLine < 0, b != 0x20, b != 0x09 {
                    firstLine = digits + padding
                    lineBreak = b == 0x0D && k + 1 < text.count && text[k + 1] == 0x0A ? [0x0D, 0x0A] : [b]
                }
                continue
            }
            if b == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            let value = digit(b)
            guard value >= 0, padding == 0 else { return nil }
            switch b {
            case UInt8(ascii: "+"), UInt8(ascii: "/"): standardOnly = true
            case UInt8(ascii: "-"), UInt8(ascii: "_"): urlOnly = true
            default: break
            }
            accumulator = accumulator << 6 | UInt32(value)
            digits += 1
            if digits % 4 == 0 {
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                bytes.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
            }
        }
        guard !(standardOnly && urlOnly), digits > 0 else { return nil }
        switch digits % 4 {
        case 0:
            guard padding == 0 else { return nil }
        case 2:
            guard padding == 0 || padding == 2 else { return nil }
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            guard padding == 0 || padding == 1 else { return nil }
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default:
            return nil
        }
        // Text with digits of neither alphabet's own says nothing: unpadded, it is taken for URL-safe (what such
        // encoders write), so the new text never brings `+` or `/` into a URL.
        let urlSafe = urlOnly || (!standardOnly && padding == 0)
        let layout = Base64Text(
            alphabet: urlSafe ? .urlSafe : .standard,
            // Text that needed no padding says nothing either way: standard encoders pad, URL-safe ones do not.
            padded: padding > 0 || (digits % 4 == 0 && !urlSafe),
            wrap: firstLine > 0 ? (firstLine, lineBreak) : nil
        )
        return (bytes, layout)
    }

    /// Decodes up to the first `limit` digits of `text` (whole quanta only; nothing else checked): enough to know a
    /// payload's type without decoding all of it. Stops at the first byte that is not a digit or a line break.
    static func decodePrefix(_ text: UnsafeBufferPointer<UInt8>, limit: Int = 64) -> [UInt8] {
        var bytes: [UInt8] = []
        var quantum: [Int] = []
        var taken = 0
        for b in text where taken < limit {
            if b == 0x0A || b == 0x0D { continue }
            let value = digit(b)
            if value < 0 { break }
            quantum.append(value)
            taken += 1
            if quantum.count == 4 {
                let v = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
                bytes += [
                    UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v),
                ]
                quantum.removeAll(keepingCapacity: true)
            }
        }
        return bytes
    }

    /// `bytes` written in this layout.
    func encode(_ bytes: [UInt8]) -> [UInt8] {
        let digits = alphabet == .standard ? Self.standardDigits : Self.urlSafeDigits
        var plain: [UInt8] = []
        plain.reserveCapacity((bytes.count + 2) / 3 * 4)
        var k = 0
        while k < bytes.count {
            let b0 = Int(bytes[k])
            let b1 = k + 1 < bytes.count ? Int(bytes[k + 1]) : 0
            let b2 = k + 2 < bytes.count ? Int(bytes[k + 2]) : 0
            plain.append(digits[b0 >> 2])
            plain.append(digits[(b0 & 0x03) << 4 | b1 >> 4])
            if k + 1 < bytes.count {
                plain.append(digits[(b1 & 0x0F) << 2 | b2 >> 6])
            } else if padded {
                plain.append(UInt8(ascii: "="))
            }
            if k + 2 < bytes.count {
                plain.append(digits[b2 & 0x3F])
            } else if padded {
                plain.append(UInt8(ascii: "="))
            }
            k += 3
        }
        guard let wrap, wrap.width > 0, plain.count > wrap.width else { return plain }
        var out: [UInt8] = []
        out.reserveCapacity(plain.count + plain.count / wrap.width * wrap.lineBreak.count)
        var start = 0
        while start < plain.count {
            let end = min(start + wrap.width, plain.count)
            if start > 0 { out += wrap.lineBreak }
            out += plain[start..<end]
            start = end
        }
        return out
    }
}
