/// The one spelling of a host name the forward proxy compares: what a vendor's `hosts:` lists and what a `CONNECT`
/// names are both reduced to it, so `API.Scale.com.` and `api.scale.com` are one host and nothing else is.
enum ForwardHostName {
    /// Lower case without one trailing dot, when `text` is a DNS name: labels of 1 to 63 letters, digits, `-` or
    /// `_` (not starting or ending with `-`), at most 253 bytes. Nil for anything else, IP literals included (an
    /// all-digit last label, `0x` hex, brackets, colons), so an address can never stand for a listed host.
    static func canonical(_ text: some StringProtocol) -> String? {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ Self.isLabelByte($0) })
            else { return nil }
        }
        let last = labels[labels.count - 1]
        if last.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { return nil }
        if labels.count == 1, last.hasPrefix("0x") { return nil }
        return name
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}
