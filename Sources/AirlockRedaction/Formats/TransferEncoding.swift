import Foundation

/// A multipart part's Content-Transfer-Encoding (RFC 2045 6): how its content is written on the wire.
///
/// RFC 7578 deprecates the header for form-data, but a vendor's multipart reader may still decode it, so a part is
/// inspected as that reader sees it: base64 and quoted-printable content is decoded, redacted by its type and, when
/// it changed, encoded again the same way. Any other value is refused: content Airlock cannot decode is not sent.
enum TransferEncoding: Sendable, Hashable {
    /// No header, `7bit`, `8bit` or `binary`: the bytes are the content.
    case identity
    case base64
    case quotedPrintable

    struct Failure: Error {
        var reason: String
    }

    /// `nil` for a value Airlock does not decode (`x-uuencode`, a typo, anything but the RFC 2045 mechanisms).
    init?(header: String) {
        switch header.lowercased() {
        case "7bit", "8bit", "binary": self = .identity
        case "base64": self = .base64
        case "quoted-printable": self = .quotedPrintable
        default: return nil
        }
    }

    /// The content as a reader decodes it. Strict: what a lenient decoder would skip or guess at is refused.
    func decode(_ content: UnsafeBufferPointer<UInt8>) throws(Failure) -> [UInt8] {
        switch self {
        case .identity: return Array(content)
        case .base64: return try Self.decodeBase64(content)
        case .quotedPrintable: return try Self.decodeQuotedPrintable(content)
        }
    }

    /// `content` encoded again, lines of at most 76 characters ended by CRLF.
    func encode(_ content: [UInt8]) -> [UInt8] {
        switch self {
        case .identity: return content
        case .base64:
            return Array(
                Data(content).base64EncodedData(options: [
                    .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
                ])
            )
        case .quotedPrintable: return Self.encodeQuotedPrintable(content)
        }
    }

    /// The base64 alphabet with `=` padding; line breaks (CRLF, LF) anywhere are dropped, any other byte outside the
    /// alphabet (spaces, `-`, `_`, stray `=`) is refused rather than skipped.
    private static func decodeBase64(_ content: UnsafeBufferPointer<UInt8>) throws(Failure) -> [UInt8] {
        var compact = [UInt8]()
        compact.reserveCapacity(content.count)
        for b in content where b != 0x0D && b != 0x0A { compact.append(b) }
        guard let data = Data(base64Encoded: Data(compact)) else {
            throw Failure(reason: "is not valid base64 (Content-Transfer-Encoding: base64)")
        }
        return Array(data)
    }

    /// RFC 2045 6.7: `=XX` is a byte (either case of hex), `=` at the end of a line (after optional transport
    /// padding) is a soft line break; any other `=` is refused.
    private static func decodeQuotedPrintable(_ content: UnsafeBufferPointer<UInt8>) throws(Failure) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(content.count)
        let n = content.count
        var i = 0
        while i < n {
            let b = content[i]
            guard b == UInt8(ascii: "=") else {
                out.append(b)
                i += 1
                continue
            }
            if i + 2 < n, let high = hexValue(content[i + 1]), let low = hexValue(content[i + 2]) {
                out.append(high << 4 | low)
                i += 3
                continue
            }
            var k = i + 1
            while k < n, content[k] == 0x20 || content[k] == 0x09 { k += 1 }
            if k + 1 < n, content[k] == 0x0D, content[k + 1] == 0x0A {
                i = k + 2
            } else if k < n, content[k] == 0x0A {
                i = k + 1
            } else if k == n {
                i = n  // a soft break ending the content
            } else {
                throw Failure(reason: "is not valid quoted-printable (a bare '=')")
            }
        }
        return out
    }

    private static func encodeQuotedPrintable(_ content: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(content.count + content.count / 8)
        var column = 0
        let hex = Array("0123456789ABCDEF".utf8)
        let n = content.count
        var i = 0
        while i < n {
            let b = content[i]
            if b == 0x0D, i + 1 < n, content[i + 1] == 0x0A {  // a hard line break
                out += [0x0D, 0x0A]
                column = 0
                i += 2
                continue
            }
            let atLineEnd = i + 1 == n || (content[i + 1] == 0x0D && i + 2 < n && content[i + 2] == 0x0A)
            let literal = (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || ((b == 0x20 || b == 0x09) && !atLineEnd)
            let piece: [UInt8] = literal ? [b] : [UInt8(ascii: "="), hex[Int(b >> 4)], hex[Int(b & 0x0F)]]
            if column + piece.count > 75 {  // a soft break keeps lines within 76 characters
                out += [UInt8(ascii: "="), 0x0D, 0x0A]
                column = 0
            }
            out += piece
            column += piece.count
            i += 1
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
