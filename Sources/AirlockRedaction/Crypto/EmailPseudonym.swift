/// Pseudonyms of e-mail addresses that are addresses themselves (`pseudonyms.emails: address`), for vendors that
/// validate an email field: `email-<sealed>@<sealed>.<sealed>.pseudonym.invalid`.
///
/// The address carries the value sealed with AES-SIV under the vendor's key (as every sealed pseudonym), in lower-case
/// base32 (vendors lower-case addresses), cut into a local part of at most 64 characters and domain labels of at
/// most 60, under `pseudonym.invalid` (RFC 2606: never resolvable, never deliverable). An address that would exceed
/// 254 characters (a value over ~120 bytes) keeps the usual `EMAIL_<sealed>` token. Restoring reads the address back
/// whatever its case; one whose seal does not open under the vendor's keys is left as it is.
enum EmailPseudonym {
    static let domain = Array("pseudonym.invalid".utf8)
    static let maxLocal = 64
    static let maxLabel = 60
    static let maxAddress = 254

    /// The label as an address begins with (`EMAIL` -> `email`, `STAFF_EMAIL` -> `staff_email`); nil when it holds
    /// anything but letters, digits and `_`.
    static func localLabel(_ label: String) -> [UInt8]? {
        let lower = Array(label.lowercased().utf8)
        guard !lower.isEmpty, lower.count < 32, lower.allSatisfy({ Self.isLabelByte($0) }) else { return nil }
        return lower
    }

    /// The address for `sealed` under `label`, or nil when it would be too long (or the label cannot start one).
    static func address(label: String, sealed: [UInt8]) -> [UInt8]? {
        guard let local = Self.localLabel(label) else { return nil }
        let payload = Base32.encode(sealed).map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        let first = min(payload.count, Self.maxLocal - local.count - 1)
        var out = local + [UInt8(ascii: "-")] + payload[0..<first] + [UInt8(ascii: "@")]
        var index = first
        while index < payload.count {
            let end = min(payload.count, index + Self.maxLabel)
            out += payload[index..<end]
            out.append(UInt8(ascii: "."))
            index = end
        }
        out += Self.domain
        return out.count <= Self.maxAddress ? out : nil
    }

    /// An address pseudonym ending just before `domainStart` (where `pseudonym.invalid` begins, already compared):
    /// where it starts, its label as written, and its sealed bytes. Nil when the bytes before are not one.
    static func parse(
        _ p: UnsafePointer<UInt8>,
        domainStart: Int,
        floor: Int
    ) -> (start: Int, label: [UInt8], sealed: [UInt8])? {
        // Back over `chunk.`* to the `@`.
        var chunks: [Range<Int>] = []
        var end = domainStart
        var k = domainStart - 1
        guard k >= floor else { return nil }
        guard p[k] == UInt8(ascii: ".") || p[k] == UInt8(ascii: "@") else { return nil }
        while k >= floor, p[k] == UInt8(ascii: ".") {
            end = k
            k -= 1
            while k >= floor, Self.isPayloadByte(p[k]) { k -= 1 }
            guard end - (k + 1) > 0, k >= floor else { return nil }
            chunks.insert((k + 1)..<end, at: 0)
        }
        guard k >= floor, p[k] == UInt8(ascii: "@") else { return nil }
        // The local part: `label-payload`.
        end = k
        k -= 1
        while k >= floor, Self.isPayloadByte(p[k]) { k -= 1 }
        guard k >= floor, p[k] == UInt8(ascii: "-"), end - (k + 1) > 0 else { return nil }
        chunks.insert((k + 1)..<end, at: 0)
        let dash = k
        k -= 1
        while k >= floor, Self.isLabelByte(p[k] | 0x20) || p[k] == UInt8(ascii: "_") { k -= 1 }
        let start = k + 1
        guard dash - start > 0 else { return nil }
        // Glued to more address characters, it is part of something else.
        if k >= floor, Self.isAddressByte(p[k]) { return nil }
        let label = (start..<dash).map { p[$0] | (p[$0] >= UInt8(ascii: "A") && p[$0] <= UInt8(ascii: "Z") ? 0x20 : 0) }
        var upper: [UInt8] = []
        for chunk in chunks {
            for i in chunk { upper.append(p[i] >= UInt8(ascii: "a") ? p[i] & ~0x20 : p[i]) }
        }
        guard let sealed = Base32.decode(upper) else { return nil }
        return (start, label, sealed)
    }

    static func isLabelByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
            || b == UInt8(ascii: "_")
    }

    static func isPayloadByte(_ b: UInt8) -> Bool {
        Base32.isAlphabet(b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b & ~0x20 : b)
    }

    private static func isAddressByte(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            || b == UInt8(ascii: "+")
    }
}
