/// The header block of one multipart part, read strictly: what the engine needs of it (name, file name, type,
/// transfer encoding) and every parameter value a reader decodes before use, so the engine inspects that text.
///
/// Ambiguity is refused, never resolved by a guess a vendor's reader may not share: a folded (obs-fold) line, a bare
/// CR or LF, whitespace before a colon, a repeated Content-Type, Content-Disposition or Content-Transfer-Encoding,
/// a repeated parameter, RFC 2231 continuations (`filename*0=`), RFC 2047 encoded words (`=?UTF-8?B?…?=`), a `name`
/// and `name*` that disagree, a malformed parameter, an unknown transfer encoding, an extended value in a charset
/// other than UTF-8 or US-ASCII. `filename` and `filename*` may both be present (RFC 6266 4.3): each is inspected.
struct MultipartHeaders {
    /// A parameter value a reader decodes before use: an RFC 5987 / 2231 extended value (`filename*=UTF-8''a%20b`)
    /// or a quoted string with quoted-pairs (`"a\"b"`). It is inspected decoded and written back encoded the same way.
    struct EncodedValue {
        enum Encoding {
            /// `charset'language'pct-encoded`; the language tag is kept when the value is written back.
            case extended(language: [UInt8])
            case quotedPairs
        }

        /// The value's bytes in the body (inside the quotes of a quoted string).
        var range: Range<Int>
        var encoding: Encoding
        var decoded: [UInt8]

        /// `text` written as this value was: an extended value as `UTF-8'language'` and percent-escapes of every
        /// byte that is not an RFC 5987 attr-char; a quoted string with `"` and `\` escaped.
        func encode(_ text: [UInt8]) -> [UInt8] {
            switch encoding {
            case .extended(let language):
                var out = Array("UTF-8'".utf8) + language + [UInt8(ascii: "'")]
                let hex = Array("0123456789ABCDEF".utf8)
                for b in text {
                    if MultipartHeaders.isAttrChar(b) {
                        out.append(b)
                    } else {
                        out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0x0F)]]
                    }
                }
                return out
            case .quotedPairs:
                var out = [UInt8]()
                for b in text {
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(b)
                }
                return out
            }
        }
    }

    /// The `name` of the Content-Disposition (quoted-pairs decoded), else its decoded `name*`.
    var name: String?
    /// The `filename` of the Content-Disposition, else its decoded `filename*`.
    var filename: String?
    var contentType: String?
    var transferEncoding = TransferEncoding.identity
    /// In body order.
    var encodedValues: [EncodedValue] = []

    /// Reads `p[block]`, the header block of part `number` (valid UTF-8, checked by the caller).
    init(_ p: UnsafePointer<UInt8>, block: Range<Int>, part number: Int) throws(MultipartPart.Failure) {
        func fail(_ what: String) -> MultipartPart.Failure {
            MultipartPart.Failure(reason: "multipart body: part \(number) \(what)")
        }
        var seen: Set<String> = []
        var lineStart = block.lowerBound
        while lineStart < block.upperBound {
            var lineEnd = lineStart
            while lineEnd < block.upperBound,
                !(p[lineEnd] == 0x0D && lineEnd + 1 < block.upperBound && p[lineEnd + 1] == 0x0A)
            {
                if p[lineEnd] == 0x0D || p[lineEnd] == 0x0A { throw fail("has a bare CR or LF in its headers") }
                lineEnd += 1
            }
            defer { lineStart = lineEnd + 2 }
            guard lineEnd > lineStart else { continue }
            if p[lineStart] == 0x20 || p[lineStart] == 0x09 { throw fail("has a folded header line") }
            var colon = lineStart
            while colon < lineEnd, p[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < lineEnd, colon > lineStart, Self.isToken(p, lineStart..<colon) else {
                throw fail("has a malformed header line")
            }
            let field = String(
                decoding: UnsafeBufferPointer(start: p + lineStart, count: colon - lineStart),
                as: UTF8.self
            )
            .lowercased()
            var valueStart = colon + 1
            while valueStart < lineEnd, p[valueStart] == 0x20 || p[valueStart] == 0x09 { valueStart += 1 }
            var valueEnd = lineEnd
            while valueEnd > valueStart, p[valueEnd - 1] == 0x20 || p[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let value = String(
                decoding: UnsafeBufferPointer(start: p + valueStart, count: valueEnd - valueStart),
                as: UTF8.self
            )
            switch field {
            case "content-type", "content-disposition", "content-transfer-encoding":
                guard seen.insert(field).inserted else { throw fail("has two \(field) headers") }
            default:
                break
            }
            switch field {
            case "content-type":
                self.contentType = value
                _ = try self.parameters(p, valueStart..<valueEnd, fail: fail)
            case "content-disposition":
                let parameters = try self.parameters(p, valueStart..<valueEnd, fail: fail)
                let extendedName = parameters["name*"]
                if let plain = parameters["name"], let extendedName, plain != extendedName {
                    throw fail("has a name and a name* that differ")
                }
                self.name = parameters["name"] ?? extendedName
                self.filename = parameters["filename"] ?? parameters["filename*"]
            case "content-transfer-encoding":
                guard let encoding = TransferEncoding(header: value) else {
                    throw fail(
                        "has a Content-Transfer-Encoding Airlock cannot decode (it decodes base64 and quoted-printable)"
                    )
                }
                self.transferEncoding = encoding
            default:
                break
            }
        }
    }

    /// The parameters of a header value (`type; a=b; c="d"`), by lowercased name, values decoded; each value a reader
    /// decodes is recorded in `encodedValues`.
    // Over 80 lines: one byte scanner (type, names, quoted and extended values) moving a single cursor.
    private mutating func parameters(
        _ p: UnsafePointer<UInt8>,
        _ value: Range<Int>,
        fail: (String) -> MultipartPart.Failure
    ) throws(MultipartPart.Failure) -> [String: String] {
        var out: [String: String] = [:]
        var i = value.lowerBound
        let end = value.upperBound
        func skipSpace() { while i < end, p[i] == 0x20 || p[i] == 0x09 { i += 1 } }
        // The type (`form-data`, `text/plain`): up to the first `;`.
        while i < end, p[i] != UInt8(ascii: ";") {
            if p[i] == UInt8(ascii: "\"") { throw fail("has a malformed header value") }
            i += 1
        }
        while i < end {
            i += 1  // the `;`
            skipSpace()
            if i == end || p[i] == UInt8(ascii: ";") { continue }  // an empty parameter (`a; ; b`, a trailing `;`)
            let nameStart = i
            while i < end, p[i] != UInt8(ascii: "="), p[i] != UInt8(ascii: ";"), p[i] != 0x20, p[i] != 0x09 { i += 1 }
            let nameRange = nameStart..<i
            skipSpace()
            guard i < end, p[i] == UInt8(ascii: "="), Self.isToken(p, nameRange) else {
                throw fail("has a malformed header parameter")
            }
            let name = String(
                decoding: UnsafeBufferPointer(start: p + nameStart, count: nameRange.count),
                as: UTF8.self
            )
            .lowercased()
            if let star = name.firstIndex(of: "*"), name.index(after: star) != name.endIndex {
                throw fail("has an RFC 2231 parameter continuation, which Airlock does not join")
            }
            guard out[name] == nil else { throw fail("repeats a header parameter") }
            i += 1
            skipSpace()
            var raw: Range<Int>
            var decoded: [UInt8]
            var quotedPairs = false
            if i < end, p[i] == UInt8(ascii: "\"") {
                i += 1
                let start = i
                decoded = []
                while i < end, p[i] != UInt8(ascii: "\"") {
                    if p[i] == UInt8(ascii: "\\") {
                        quotedPairs = true
                        i += 1
                        guard i < end else { break }
                    }
                    decoded.append(p[i])
                    i += 1
                }
                guard i < end else { throw fail("has an unterminated quoted header parameter") }
                raw = start..<i
                i += 1
            } else {
                let start = i
                while i < end, p[i] != UInt8(ascii: ";"), p[i] != 0x20, p[i] != 0x09 { i += 1 }
                raw = start..<i
                decoded = Array(UnsafeBufferPointer(start: p + start, count: i - start))
            }
            skipSpace()
            guard i == end || p[i] == UInt8(ascii: ";") else { throw fail("has a malformed header parameter") }
            if let at = decoded.firstIndex(of: UInt8(ascii: "=")), at + 1 < decoded.count,
                decoded[at + 1] == UInt8(ascii: "?")
            {
                throw fail("has an RFC 2047 encoded word in a header parameter, which Airlock does not decode")
            }
            if name.hasSuffix("*") {
                let (language, text) = try Self.decodeExtended(decoded, fail: fail)
                decoded = text
                encodedValues.append(EncodedValue(range: raw, encoding: .extended(language: language), decoded: text))
            } else if quotedPairs {
                encodedValues.append(EncodedValue(range: raw, encoding: .quotedPairs, decoded: decoded))
            }
            guard let text = String(validating: decoded, as: UTF8.self) else {
                throw fail("has a header parameter that is not valid UTF-8")
            }
            out[name] = text
        }
        return out
    }

    /// An RFC 5987 ext-value: `charset'language'value`, the value percent-decoded. UTF-8 and US-ASCII only.
    private static func decodeExtended(
        _ value: [UInt8],
        fail: (String) -> MultipartPart.Failure
    ) throws(MultipartPart.Failure) -> (language: [UInt8], text: [UInt8]) {
        let parts = value.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw fail("has a malformed extended header parameter") }
        let charset = String(decoding: parts[0], as: UTF8.self).lowercased()
        guard ["utf-8", "us-ascii"].contains(charset) else {
            throw fail(
                "has an extended header parameter in a charset other than UTF-8, which Airlock cannot inspect"
            )
        }
        guard parts[1].allSatisfy({ isAttrChar($0) }) else { throw fail("has a malformed extended header parameter") }
        var text = [UInt8]()
        var k = parts[2].startIndex
        let encoded = parts[2]
        while k < encoded.endIndex {
            let b = encoded[k]
            if b == UInt8(ascii: "%") {
                guard let high = hex(encoded[safe: k + 1]), let low = hex(encoded[safe: k + 2]) else {
                    throw fail("has a malformed percent-escape in an extended header parameter")
                }
                text.append(high << 4 | low)
                k += 3
            } else {
                guard b > 0x20, b < 0x7F else { throw fail("has a malformed extended header parameter") }
                text.append(b)
                k += 1
            }
        }
        return (Array(parts[1]), text)
    }

    private static func hex(_ b: UInt8?) -> UInt8? {
        switch b {
        case let b? where b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case let b? where b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        case let b? where b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static let attrSymbols: [UInt8] = Array("!#$&+-.^_`|~".utf8)
    private static let tokenSymbols: [UInt8] = Array("!#$%&'*+-.^_`|~".utf8)

    /// RFC 5987 attr-char: ALPHA / DIGIT / `!#$&+-.^_`|~`.
    static func isAttrChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return attrSymbols.contains(b)
        }
    }

    /// RFC 9110 token (a field or parameter name).
    private static func isToken(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        for k in range {
            let b = p[k]
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            default:
                guard tokenSymbols.contains(b) else { return false }
            }
        }
        return true
    }
}

extension ArraySlice where Element == UInt8 {
    fileprivate subscript(safe index: Int) -> UInt8? { indices.contains(index) ? self[index] : nil }
}
