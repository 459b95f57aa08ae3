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
    /// The first hex digit after `\u00` (JSON) or `%` (forms) of an escape spelling a character of a name, both cases.
    let escapeLeads: Set<UInt8>
    /// A name has a non-ASCII character: any `\u` or `%` escape may spell part of it.
    let anyEscape: Bool
    /// A name holds a character JSON has a two-character escape for (`"`, `\`, `/`, controls): any backslash counts.
    let anyBackslash: Bool
    /// A name holds a space, which a form writes `+`.
    let plusIsSpace: Bool

    init(names: [String]) {
        self.names = names.map { Array($0.utf8) }.filter { !$0.isEmpty }
        var leads: Set<UInt8> = []
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
            leads.insert(lead)
            if lead >= UInt8(ascii: "a") { leads.insert(lead - 0x20) }
        }
        self.escapeLeads = leads
        self.anyEscape = anyEscape
        self.anyBackslash = anyBackslash
        self.plusIsSpace = plus
    }

    func mayHold(_ bytes: UnsafeRawBufferPointer, format: FieldLocator.Format) -> Bool {
        if case .multipart = format { return true }
        guard let base = bytes.baseAddress, bytes.count > 0, !self.names.isEmpty else { return false }
        for name in self.names where Self.contains(bytes, name) { return true }
        switch format {
        case .json, .jsonLines:
            if self.anyBackslash { return memchr(base, Int32(UInt8(ascii: "\\")), bytes.count) != nil }
            return self.escapes(bytes, introducer: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30])
        case .form:
            if self.plusIsSpace, memchr(base, Int32(UInt8(ascii: "+")), bytes.count) != nil { return true }
            return self.escapes(bytes, introducer: [UInt8(ascii: "%")])
        case .multipart:
            return true
        }
    }

    /// Whether `needle` occurs in `bytes`: memchr for its first byte, then the rest compared.
    private static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var offset = 0
        while offset + needle.count <= bytes.count {
            guard let hit = memchr(base + offset, Int32(needle[0]), bytes.count - offset) else { return false }
            let start = base.distance(to: UnsafeRawPointer(hit))
            guard start + needle.count <= bytes.count else { return false }
            if needle.withUnsafeBytes({ memcmp(base + start, $0.baseAddress!, needle.count) }) == 0 { return true }
            offset = start + 1
        }
        return false
    }

    /// Whether `introducer` occurs followed by one of `escapeLeads` (by any byte when `anyEscape`): memchr for its
    /// first byte, then the rest compared.
    private func escapes(_ bytes: UnsafeRawBufferPointer, introducer: [UInt8]) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        // Any `\u` (or `%`) may spell a non-ASCII character; the `00` of `\u00` is only known for ASCII ones.
        let prefix = self.anyEscape ? Array(introducer.prefix(2)) : introducer
        var offset = 0
        while offset < bytes.count {
            guard let hit = memchr(base + offset, Int32(prefix[0]), bytes.count - offset) else { return false }
            let start = base.distance(to: UnsafeRawPointer(hit))
            let end = start + prefix.count
            if end < bytes.count || (self.anyEscape && end <= bytes.count) {
                var k = 1
                while k < prefix.count, bytes[start + k] == prefix[k] { k += 1 }
                if k == prefix.count, self.anyEscape || self.escapeLeads.contains(bytes[end]) { return true }
            }
            offset = start + 1
        }
        return false
    }
}
