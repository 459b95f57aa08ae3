#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ``FieldLocator/mayHold(_:format:)``: derived from the names alone, so a name added to a locator is checked for
/// without anything else to keep in step.
///
/// A name can only be present when it occurs literally, or when an escape that could spell one of its characters
/// does. Only those escapes count: for names of ASCII letters and `_` (0x41…0x7A), `\u004`…`\u007` in JSON and
/// `%4`…`%7` in forms, so the `\u00e9`s of escaped non-ASCII text and the `%2F`s of encoded URLs do not force a walk.
struct FieldLocatorQuickCheck: Sendable {
    let names: [[UInt8]]
    /// The names searched for literally: a name holding another is found with it, and is left out. Each with the
    /// offset of its rarest byte in English text, which the search anchors on (far fewer candidates than a common
    /// first letter, which matters on large bodies).
    let needles: [(bytes: [UInt8], anchor: Int)]
    /// The first hex digit after `\u00` (JSON) or `%` (forms) of an escape spelling a character of a name, both cases.
    /// Bit `b` of `escapeLeads.0` (b < 64) or `escapeLeads.1` (b ≥ 64, bit b - 64): byte b is such a digit.
    let escapeLeads: (UInt64, UInt64)
    /// A name has a non-ASCII character: any `\u` or `%` escape may spell part of it.
    let anyEscape: Bool
    /// A name holds a character JSON has a two-character escape for (`"`, `\`, `/`, controls): any backslash counts.
    let anyBackslash: Bool
    /// A name holds a space, which a form writes `+`.
    let plusIsSpace: Bool

    init(names: [String]) {
        let names = names.map { Array($0.utf8) }.filter { !$0.isEmpty }
        self.names = names
        self.needles = names.enumerated().compactMap { index, name in
            let holdsAnother = names.enumerated().contains { other, shorter in
                other != index && shorter.count <= name.count && (shorter != name || other < index)
                    && Self.find(shorter, in: name)
            }
            return holdsAnother ? nil : (name, Self.rarestByte(name))
        }
        var leads: (UInt64, UInt64) = (0, 0)
        var anyEscape = false
        var anyBackslash = false
        var plus = false
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in self.names.joined() {
            if byte >= 0x80 { anyEscape = true }
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") {
                anyBackslash = true
            }
            if byte == UInt8(ascii: " ") { plus = true }
            let lead = hex[Int(byte >> 4)]
            for digit in lead >= UInt8(ascii: "a") ? [lead, lead - 0x20] : [lead] {
                if digit < 64 { leads.0 |= 1 << UInt64(digit) } else { leads.1 |= 1 << UInt64(digit - 64) }
            }
        }
        self.escapeLeads = leads
        self.anyEscape = anyEscape
        self.anyBackslash = anyBackslash
        self.plusIsSpace = plus
    }

    func mayHold(_ bytes: UnsafeRawBufferPointer, format: FieldLocator.Format) -> Bool {
        if case .multipart = format { return true }
        guard let base = bytes.baseAddress, bytes.count > 0, !self.names.isEmpty else { return false }
        for needle in self.needles where Self.contains(bytes, needle.bytes, anchor: needle.anchor) { return true }
        switch format {
        case .json, .jsonLines:
            if self.anyBackslash { return memchr(base, Int32(UInt8(ascii: "\\")), bytes.count) != nil }
            return self.escapes(bytes, introducer: "\\u00")
        case .form:
            if self.plusIsSpace, memchr(base, Int32(UInt8(ascii: "+")), bytes.count) != nil { return true }
            return self.escapes(bytes, introducer: "%")
        case .multipart:
            return true
        }
    }

    /// Whether `needle` occurs in `bytes`: memchr for its byte at `anchor`, then the whole needle compared.
    private static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: [UInt8], anchor: Int) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return needle.withUnsafeBytes { needle in
            let target = Int32(needle[anchor])
            var offset = anchor
            while offset < bytes.count {
                guard let hit = memchr(base + offset, target, bytes.count - offset) else { return false }
                let start = base.distance(to: UnsafeRawPointer(hit)) - anchor
                if start + needle.count <= bytes.count, memcmp(base + start, needle.baseAddress!, needle.count) == 0 {
                    return true
                }
                offset = start + anchor + 1
            }
            return false
        }
    }

    /// Whether `needle` occurs in `haystack` (names, at construction).
    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }

    /// The offset of the byte of `name` least frequent in English text: lower-case letters by their frequency,
    /// upper-case ones after them, anything else (`_`, digits, punctuation, non-ASCII) rarest.
    private static func rarestByte(_ name: [UInt8]) -> Int {
        let order = Array("etaoinshrdlcumwfgypbvkjxqz".utf8)
        func rank(_ byte: UInt8) -> Int {
            if let index = order.firstIndex(of: byte) { return index }
            if let index = order.firstIndex(of: byte | 0x20), byte >= 0x41, byte <= 0x5A { return 26 + index }
            return 60
        }
        var best = 0
        for index in name.indices where rank(name[index]) > rank(name[best]) { best = index }
        return best
    }

    /// Whether `introducer` occurs followed by one of `escapeLeads` (by any byte when `anyEscape`): memchr for its
    /// first byte, then the rest compared.
    private func escapes(_ bytes: UnsafeRawBufferPointer, introducer: StaticString) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        // Any `\u` (or `%`) may spell a non-ASCII character; the `00` of `\u00` is only known for ASCII ones.
        let length = self.anyEscape ? min(2, introducer.utf8CodeUnitCount) : introducer.utf8CodeUnitCount
        let first = Int32(introducer.utf8Start[0])
        var offset = 0
        while offset < bytes.count {
            guard let hit = memchr(base + offset, first, bytes.count - offset) else { return false }
            let start = base.distance(to: UnsafeRawPointer(hit))
            let end = start + length
            if end < bytes.count || (self.anyEscape && end <= bytes.count),
                memcmp(base + start, introducer.utf8Start, length) == 0
            {
                if self.anyEscape { return true }
                let digit = bytes[end]
                let lead = digit < 64 ? self.escapeLeads.0 >> UInt64(digit) : self.escapeLeads.1 >> UInt64(digit & 63)
                if digit < 128, lead & 1 != 0 { return true }
            }
            offset = start + 1
        }
        return false
    }
}
