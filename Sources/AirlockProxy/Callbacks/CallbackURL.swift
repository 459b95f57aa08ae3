/// The parts of a callback URL that decide where it leads: scheme, host, port and path.
///
/// Lenient on purpose: what matters is whether a vendor could reach the lab with it, so a value is parsed the way a
/// vendor's HTTP client would (`//host/x` and schemeless `host.domain/x` too). Values that cannot name a host (an
/// email address, free text) are not URLs.
struct CallbackURL: Equatable {
    var scheme: String?
    var host: String
    var port: Int?
    var path: String

    init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
                return nil
            }
            self.scheme = scheme
            rest = rest[range.upperBound...]
        } else if rest.hasPrefix("//") {
            self.scheme = nil
            rest = rest.dropFirst(2)
        } else {
            // Schemeless: only something that looks like host.domain[:port][/path].
            self.scheme = nil
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard !authority.contains("@"), !authority.contains(" "),
                authority.contains(".") || authority.contains(":")
            else { return nil }
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        var host: Substring
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = Int(authority[authority.index(after: colon)...])
        } else {
            host = authority
        }
        self.host = Self.asResolved(Self.percentDecoded(host))
        self.port = port
        let pathEnd = rest[authorityEnd...].firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        self.path = String(rest[authorityEnd..<pathEnd])
    }

    /// Whether this URL is `target` (same scheme, host, port and path; a trailing slash does not matter).
    func names(_ target: CallbackTarget) -> Bool {
        let scheme = target.isTLS ? "https" : "http"
        guard self.scheme == scheme, self.host == target.host,
            (self.port ?? (target.isTLS ? 443 : 80)) == target.port
        else { return false }
        func trimmed(_ path: String) -> Substring {
            var path = Substring(path.isEmpty ? "/" : path)
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            return path
        }
        return trimmed(self.path) == trimmed(target.path)
    }

    /// `host` as a vendor's client resolves it: UTS #46 maps compatibility forms (fullwidth letters, `．`) to ASCII
    /// and the ideographic full stops `。` `｡` to a dot (WHATWG URL, Python's idna, curl with libidn2), so
    /// `labeling.corp。example.com` is the lab's `labeling.corp.example.com`. Lower-cased.
    private static func asResolved(_ host: String) -> String {
        guard !host.allSatisfy(\.isASCII) else { return host.lowercased() }
        return host.precomposedStringWithCompatibilityMapping
            .replacingOccurrences(of: "\u{3002}", with: ".")
            .lowercased()
    }

    private static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        return text.removingPercentEncoding ?? String(text)
    }
}
