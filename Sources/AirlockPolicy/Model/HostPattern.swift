/// A host glob from a `url` detector's `hosts`: `*` stands for any run of characters (dots included), everything
/// else matches itself, case-insensitively. `*.corp.example.com` matches `wiki.corp.example.com` and
/// `a.b.corp.example.com` but not `corp.example.com` itself.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased.
    public let pattern: String

    /// `nil` when `text` is not a host glob: empty, or characters other than letters, digits, `-`, `.`, `_`, `*`.
    public init?(_ text: String) {
        guard !text.isEmpty,
            text.unicodeScalars.allSatisfy({ scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "-._*".unicodeScalars.contains(scalar))
            })
        else { return nil }
        pattern = text.lowercased()
    }

    public var description: String { pattern }

    /// Whether `host` (without port) matches the glob.
    public func matches(_ host: String) -> Bool {
        let pattern = Array(pattern.utf8)
        let host = Array(host.lowercased().utf8)
        // Classic wildcard matching with a single backtrack point: linear in practice for host-sized inputs.
        var p = 0
        var h = 0
        var starP = -1
        var starH = 0
        while h < host.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                starP = p
                starH = h
                p += 1
            } else if p < pattern.count, pattern[p] == host[h] {
                p += 1
                h += 1
            } else if starP >= 0 {
                p = starP + 1
                starH += 1
                h = starH
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") {
            p += 1
        }
        return p == pattern.count
    }
}
