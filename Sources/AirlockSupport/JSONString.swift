/// JSON string escaping (RFC 8259 §7) for everything Airlock writes as JSON: audit records, redacted values put back
/// into a body, refusal bodies.
///
/// Quotes, backslashes and the C0 controls are escaped; everything else, U+2028 and U+2029 included (valid in JSON),
/// is copied as is: making text safe to print is the job of `ReportedText` (AirlockRedaction) upstream. Runs that need no escape are copied
/// in bulk.
public enum JSONString {
    /// How control characters other than the line feed, carriage return and tab are written.
    public enum ControlEscapes: Sendable {
        /// `\b` and `\f` by name too (the audit log's form).
        case allNamed
        /// `\u0008` and `\u000c` (the form of bodies and refusal bodies).
        case lineBreaksAndTabOnly
    }

    /// Appends `source` (valid UTF-8) as JSON string content, without quotes.
    @inlinable
    public static func appendEscaped(
        _ source: UnsafeBufferPointer<UInt8>,
        to out: inout [UInt8],
        controls: ControlEscapes = .lineBreaksAndTabOnly
    ) {
        var run = 0
        for k in 0..<source.count {
            let b = source[k]
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") { continue }
            if k > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[run..<k])) }
            run = k + 1
            out.append(UInt8(ascii: "\\"))
            switch b {
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
            case 0x08 where controls == .allNamed: out.append(UInt8(ascii: "b"))
            case 0x0C where controls == .allNamed: out.append(UInt8(ascii: "f"))
            default:
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(Hex.digit(b >> 4))
                out.append(Hex.digit(b & 0x0F))
            }
        }
        if source.count > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[run...])) }
    }

    /// Appends `bytes` (valid UTF-8) as JSON string content, without quotes.
    @inlinable
    public static func appendEscaped(
        _ bytes: [UInt8],
        to out: inout [UInt8],
        controls: ControlEscapes = .lineBreaksAndTabOnly
    ) {
        bytes.withUnsafeBufferPointer { appendEscaped($0, to: &out, controls: controls) }
    }

    /// Appends `value` as a whole JSON string, quotes included.
    public static func appendQuoted(
        _ value: String,
        to out: inout [UInt8],
        controls: ControlEscapes = .lineBreaksAndTabOnly
    ) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { appendEscaped($0, to: &out, controls: controls) }
        out.append(UInt8(ascii: "\""))
    }

    /// `value` as a whole JSON string, quotes included.
    public static func quoted(_ value: String, controls: ControlEscapes = .lineBreaksAndTabOnly) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 2)
        appendQuoted(value, to: &out, controls: controls)
        return String(decoding: out, as: UTF8.self)
    }
}
