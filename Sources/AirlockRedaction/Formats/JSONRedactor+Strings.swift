import AirlockPolicy
import AirlockSupport
internal import CAirlockSIMD
import Foundation

extension JSONRedactor {
    // MARK: Strings

    struct StringToken {
        /// Content range (inside the quotes).
        var start: Int
        var end: Int
        var escaped: Bool
        var nonASCII: Bool
        /// A `\\u` escape occurs (it may spell a non-ASCII or invisible character).
        var unicodeEscape = false
        /// The kernel found the token: `zeroWidth` is known, and when `textCount >= 0`, the content as a reader sees
        /// it (escapes decoded) is already in `text` at the walker's `textCount`, `textCount` bytes long.
        var fromKernel = false
        /// The content holds, as raw UTF-8, a character a reader cannot see (valid when `fromKernel`).
        var zeroWidth = false
        var textCount = -1
    }

    /// Validates the string at `i` (which is `"`) and moves past it. With the kernel, its decoded text lands in
    /// `text` at `textCount` (without moving `textCount`; `redactString` keeps it there or not).
    @inline(__always)
    mutating func stringToken() throws(Stop) -> StringToken {
        guard kernel else { return try referenceStringToken() }
        // The kernel writes at most `n - (i + 1)` bytes. Every queued string's text (and its newline) is no longer
        // than its quoted source, so `textCount <= i` and this always holds.
        precondition(textCapacity - textCount >= n - i, "JSON text buffer sized below the kernel's writes")
        let found = CAirlockSIMD_json_string(p, i + 1, n, text + textCount)
        // Not a valid string: the reference validator finds the same problem and throws the error it always did.
        guard found.ok != 0 else { return try referenceStringToken() }
        let flags = found.flags
        var token = StringToken(
            start: i + 1,
            end: Int(found.end),
            escaped: flags & CAIRLOCK_JSON_ESCAPED != 0,
            nonASCII: flags & CAIRLOCK_JSON_NON_ASCII != 0,
            unicodeEscape: flags & CAIRLOCK_JSON_UNICODE_ESCAPE != 0
        )
        token.fromKernel = true
        token.zeroWidth = flags & CAIRLOCK_JSON_ZERO_WIDTH != 0
        // `\\u` escapes are decoded by `decodeString` (surrogate pairs, the unpaired-surrogate error).
        if !token.unicodeEscape { token.textCount = Int(found.written) }
        i = token.end + 1
        return token
    }

    /// The Swift reference of `stringToken` (and the source of its error messages).
    private mutating func referenceStringToken() throws(Stop) -> StringToken {
        i += 1
        var token = StringToken(start: i, end: i, escaped: false, nonASCII: false)
        while true {
            i = Self.firstSpecial(p, from: i, count: n)
            guard i < n else { throw syntax("unterminated string") }
            let b = p[i]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                token.escaped = true
                guard i + 1 < n else { throw syntax("unterminated escape") }
                switch p[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= n, (2..<6).allSatisfy({ JSONStringEscapes.hexValue(p[i + $0]) >= 0 }) else {
                        throw syntax("invalid \\u escape")
                    }
                    token.unicodeEscape = true
                    i += 6
                default:
                    throw syntax("invalid escape")
                }
                continue
            }
            if b < 0x20 { throw syntax("control character in string") }
            if b >= 0x80 {
                token.nonASCII = true
                let length = UTF8Text.sequenceLength(p, i, n)
                guard length > 0 else { throw syntax("invalid UTF-8") }
                i += length
                continue
            }
            i += 1
        }
        token.end = i
        i += 1
        return token
    }

    /// The offset of the first byte at or after `from` that a string scan must look at (see `specialBytes`), or of
    /// one of the last 7 bytes of the buffer, which the caller looks at one by one.
    ///
    /// Sixteen bytes a step while nothing needs a look, then straight to the first byte that does (the lowest
    /// flagged byte of each word is exact: borrows only flag bytes above a real one). A function of its arguments
    /// only, so the offset stays in a register instead of being stored to the walker at every step.
    @inline(__always)
    static func firstSpecial(_ p: UnsafePointer<UInt8>, from: Int, count n: Int) -> Int {
        var k = from
        while k &+ 16 <= n {
            let a = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
            let b = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if a | b != 0 {
                return k &+ (a != 0 ? a.trailingZeroBitCount &>> 3 : 8 &+ (b.trailingZeroBitCount &>> 3))
            }
            k &+= 16
        }
        while k &+ 8 <= n {
            let a = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
            if a != 0 { return k &+ (a.trailingZeroBitCount &>> 3) }
            k &+= 8
        }
        return k
    }

    /// The high bit of each byte of `w` that a string scan must stop at (a quote, a backslash, a control character,
    /// a non-ASCII byte) is set; the lowest set bit marks the first such byte exactly.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = w ^ (ones &* 0x22)
        let slash = w ^ (ones &* 0x5C)
        let special = ((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w) | w
        return special & 0x8080_8080_8080_8080
    }

    /// The decoded content of a string token (escapes resolved; already validated).
    func decodeString(_ token: StringToken) throws(Stop) -> [UInt8] {
        var out = [UInt8]()
        try decodeString(token, into: &out)
        return out
    }

    /// Decodes a string token into `out` (replacing its contents, keeping its capacity).
    func decodeString(_ token: StringToken, into out: inout [UInt8]) throws(Stop) {
        do {
            try JSONStringEscapes.decode(p, from: token.start, to: token.end, into: &out)
        } catch {
            throw .uninspectable("malformed JSON at byte \(error.offset): unpaired surrogate escape")
        }
    }

    /// Appends `bytes` (valid UTF-8) to `out` as JSON string content: quotes, backslashes and control characters
    /// escaped (`\n`, `\r`, `\t`, others as `\u00XX`), runs that need no escape copied in bulk.
    @inline(__always)
    static func appendEncoded(_ bytes: [UInt8], to out: inout [UInt8]) {
        JSONString.appendEscaped(bytes, to: &out, controls: .lineBreaksAndTabOnly)
    }

    /// `bytes` (valid UTF-8) as JSON string content (see `appendEncoded`).
    static func encodeString(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        // Room for a few escapes without growing.
        out.reserveCapacity(bytes.count + 16)
        appendEncoded(bytes, to: &out)
        return out
    }

    /// The new content of the string `token` for the decoded text `result`, escapes of what did not change kept.
    func rewritten(_ token: StringToken, _ result: [UInt8]) -> [UInt8] {
        guard token.escaped else { return Self.encodeString(result) }
        return JSONStringRewrite.encode(
            result,
            replacing: UnsafeBufferPointer(start: p + token.start, count: token.end - token.start)
        )
    }
}
