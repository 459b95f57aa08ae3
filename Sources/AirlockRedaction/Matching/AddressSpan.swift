import AirlockPolicy

/// Where an `ip` detector match stands in its text, and the span that is the address.
///
/// An address is not inside a longer run of letters, digits, dots or colons (version strings `1.2.3.4.5`,
/// timestamps `10:30:00`), with three exceptions that still name an address:
/// - a colon after an IPv4 address, as before a port: `10.0.0.5:8080`, `http://192.168.1.20:6379/` (the address is
///   the span; the port stays);
/// - a label or an IPv6 prefix before it: `ip:10.0.0.5`, and `::ffff:10.0.0.5` (IPv4-mapped) or `64:ff9b::10.0.0.5`,
///   where the span is the whole IPv6 address and `ranges` are checked against it and its IPv4 part;
/// - brackets around an IPv6 address with a port: `[fd00::1]:8443` (the brackets end the run).
enum AddressSpan {
    /// The address span of the match `p[start..<end]` inside `lo..<hi`, or nil when it is not an address the
    /// detector covers.
    static func resolve(
        _ p: UnsafePointer<UInt8>,
        start: Int,
        end: Int,
        lo: Int,
        hi: Int,
        detector: DetectorRule
    ) -> Range<Int>? {
        let isIPv4 = !(start..<end).contains { p[$0] == UInt8(ascii: ":") }
        var first = start
        if start > lo {
            let b = p[start - 1]
            if TermVariants.isAlnum(b) || b == UInt8(ascii: ".") { return nil }
            if b == UInt8(ascii: ":") {
                guard isIPv4 else { return nil }
                var s = start - 1
                while s > lo, isHex(p[s - 1]) || p[s - 1] == UInt8(ascii: ":") { s -= 1 }
                if s < start - 1, s == lo || !(TermVariants.isAlnum(p[s - 1]) || p[s - 1] == UInt8(ascii: ".")),
                    CIDRRange.parseAddress(text(p, s, end))?.count == 16
                {
                    first = s
                }
            }
        }
        if end < hi {
            let b = p[end]
            if TermVariants.isAlnum(b) { return nil }
            if b == UInt8(ascii: "."), end + 1 < hi, isAddressByte(p[end + 1]) { return nil }
            // After an IPv4 address a colon starts a port or ends a clause; after an IPv6 one the run goes on.
            if b == UInt8(ascii: ":"), !isIPv4 { return nil }
        }
        if detector.coversAddress(text(p, first, end)) { return first..<end }
        // An IPv4-mapped or translated IPv6 address is also covered by an IPv4 range holding its IPv4 part.
        if first < start, detector.coversAddress(text(p, start, end)) { return first..<end }
        return nil
    }

    private static func text(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66)
    }

    static func isAddressByte(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: ":")
    }
}
