import AirlockPolicy

/// Decides whether a host name is inside the lab: the configured globs, plus what can never be a vendor-reachable
/// public name (loopback, private, link-local and CGNAT addresses, `localhost`, single-label names, numeric hosts).
public struct InternalHosts: Sendable {
    /// Exact lower-cased names.
    private let exact: Set<String>
    /// `.corp.example.com` for a glob `*.corp.example.com`.
    private let suffixes: [String]

    /// - Parameter globs: `name` or `*.suffix`, any case.
    public init(globs: [String]) {
        var exact: Set<String> = []
        var suffixes: [String] = []
        for glob in globs {
            let lower = glob.lowercased()
            if lower.hasPrefix("*.") {
                suffixes.append(String(lower.dropFirst()))
            } else {
                exact.insert(lower)
            }
        }
        self.exact = exact
        self.suffixes = suffixes
    }

    /// Whether `glob` is a form ``init(globs:)`` accepts: a host name, or `*.` followed by one.
    public static func isValidGlob(_ glob: String) -> Bool {
        let name = glob.hasPrefix("*.") ? glob.dropFirst(2) : glob[...]
        return !name.isEmpty && !name.hasPrefix(".") && !name.hasSuffix(".") && !name.contains("..")
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: ":")
            }
    }

    /// `host` is a host name or IP literal, without brackets or port, in any case.
    public func contains(_ host: String) -> Bool {
        var name = host.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        if name.isEmpty { return true }  // nothing a vendor could reach: treat as inside (fail closed)
        if self.exact.contains(name) { return true }
        for suffix in self.suffixes where name.hasSuffix(suffix) { return true }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        if name.contains(":") { return Self.isInternalIPv6(name) }
        if let octets = Self.ipv4(name) { return Self.isInternalIPv4(octets) }
        // Single-label names resolve through the lab's search domains; all-numeric labels are IPv4 in disguise
        // (`2130706433`, `127.1`, `0x7f.1`).
        if !name.contains(".") { return true }
        if name.split(separator: ".").allSatisfy({ label in
            label.allSatisfy(\.isWholeNumber) || (label.hasPrefix("0x") && label.dropFirst(2).allSatisfy(\.isHexDigit))
        }) {
            return true
        }
        return false
    }

    static func ipv4(_ name: String) -> [UInt8]? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else {
                return nil
            }
            octets.append(value)
        }
        return octets
    }

    static func isInternalIPv4(_ o: [UInt8]) -> Bool {
        switch (o[0], o[1]) {
        case (0, _), (10, _), (127, _): return true
        case (169, 254), (192, 168): return true
        case (172, 16...31): return true
        case (100, 64...127): return true  // carrier-grade NAT, also used inside labs
        default: return o[0] >= 224  // multicast, reserved, broadcast
        }
    }

    static func isInternalIPv6(_ name: String) -> Bool {
        let address = name.split(separator: "%").first.map(String.init) ?? name  // zone ids are link-local
        // Read as its 16 bytes, so every spelling of one address (`::1`, `0::1`, `0:0:0:0:0:0:0:1`,
        // `0:0:0:0:0:ffff:a00:1`) is judged alike; text that is no address is inside (fail closed).
        guard let bytes = CIDRRange.parseAddress(address), bytes.count == 16 else { return true }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return Self.isInternalIPv4(Array(bytes[12...]))  // ::ffff:a.b.c.d
        }
        if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return true }  // fec0::/10 site-local (deprecated)
        return bytes[0] == 0 && bytes[1] == 0  // 0::/16: unspecified, loopback, IPv4-compatible
    }
}
