#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// JSON string escapes (RFC 8259 §7), decoded the one way Airlock reads them everywhere: the redaction engine before
/// matching, and its field locator before the proxy judges a callback URL. A lone surrogate is an error, never
/// silently replaced, so what Airlock judges is exactly what a vendor's parser would read, or the body is refused.
public enum JSONStringEscapes {
    /// A `\uD800`–`\uDFFF` escape without its partner, at `offset`.
    public struct UnpairedSurrogate: Error, Sendable {
        public var offset: Int
    }

    /// Decodes the content of a string token whose syntax has been validated (every escape complete): the bytes
    /// `p[start..<end]` between the quotes. Replaces the contents of `out`, keeping its capacity; runs between
    /// escapes are copied in bulk.
    public static func decode(
        _ p: UnsafePointer<UInt8>,
        from start: Int,
        to end: Int,
        into out: inout [UInt8]
    ) throws(UnpairedSurrogate) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(end - start)
        var k = start
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 << 4 | UInt32(truncatingIfNeeded: Self.hexValue(p[at + $1])) }
        }
        while k < end {
            guard let found = memchr(p + k, 0x5C, end - k) else {
                out.append(contentsOf: UnsafeBufferPointer(start: p + k, count: end - k))
                return
            }
            let slash = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - p
            if slash > k { out.append(contentsOf: UnsafeBufferPointer(start: p + k, count: slash - k)) }
            let escaped = p[slash + 1]
            k = slash + 2
            switch escaped {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(k)
                k += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard k + 6 <= end, p[k] == UInt8(ascii: "\\"), p[k + 1] == UInt8(ascii: "u") else {
                        throw UnpairedSurrogate(offset: k)
                    }
                    let low = hex4(k + 2)
                    guard low >= 0xDC00 && low < 0xE000 else { throw UnpairedSurrogate(offset: k) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw UnpairedSurrogate(offset: k)
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
            default: out.append(escaped)  // \" \\ \/
            }
        }
    }

    /// The value of a hex digit, or -1.
    @inline(__always)
    public static func hexValue(_ b: UInt8) -> Int {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(b) - 0x30
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(b) - 0x57
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(b) - 0x37
        default: -1
        }
    }
}
