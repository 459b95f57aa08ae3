import Foundation

/// Maps a URL a vendor answers with (`Location`, `Content-Location`) to the Airlock URL that reaches the same
/// resource, as nginx's `proxy_redirect` does: a client that follows a vendor's redirect comes back through Airlock,
/// so the body it re-sends is inspected again, and never learns the vendor's direct address.
///
/// A URL on the vendor's origin (scheme `https`, its host and port, no user info) under its base path maps to
/// `https://<the authority the lab used><path_prefix><rest>` (`<path_prefix><rest>` when the lab sent no usable
/// `Host`); a relative reference is resolved against the request as the vendor saw it, dot segments removed, and
/// maps to `<path_prefix><rest>` (an absolute path: still a relative reference). Anything else is foreign. Query and fragment are kept as they are; pseudonyms in the URL are
/// not restored (see README, "Redirects").
enum VendorLocation {
    enum Mapping: Equatable {
        case mapped(String)
        /// Another origin or scheme, outside the vendor's base path, or not a URL Airlock can read.
        case foreign
    }

    /// - Parameters:
    ///   - vendorPath: the path of the request as the vendor received it (base path included, no query).
    ///   - labAuthority: the `Host` the lab addressed Airlock by, when it sent a usable one.
    static func map(
        _ location: String,
        upstream: UpstreamURL,
        pathPrefix: String,
        vendorPath: String,
        labAuthority: String?
    ) -> Mapping {
        let text = location.trimmingSpaces
        guard !text.isEmpty, !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return .foreign }
        // Fragment and query ride along unchanged; the path decides.
        var rest = Substring(text)
        var suffix = Substring("")
        if let mark = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            suffix = rest[mark...]
            rest = rest[..<mark]
        }
        let path: String
        var isAbsolute = true
        if let colon = rest.firstIndex(of: ":"), Self.isScheme(rest[..<colon]) {
            // Absolute URL: only https on the vendor's own authority.
            guard rest[..<colon].lowercased() == "https", rest[colon...].hasPrefix("://") else { return .foreign }
            let afterScheme = rest[rest.index(colon, offsetBy: 3)...]
            guard let resolved = Self.onVendorOrigin(afterScheme, upstream: upstream) else { return .foreign }
            path = resolved
        } else if rest.hasPrefix("//") {
            guard let resolved = Self.onVendorOrigin(rest.dropFirst(2), upstream: upstream) else { return .foreign }
            path = resolved
        } else if rest.hasPrefix("/") {
            path = String(rest)
            isAbsolute = false
        } else if rest.isEmpty {
            // Only a query or a fragment: the request's own path (RFC 3986 §5.2.2).
            path = vendorPath
            isAbsolute = false
        } else {
            // A relative path: merged with the directory of the request's path (RFC 3986 §5.2.3).
            let directory = vendorPath.lastIndex(of: "/").map { vendorPath[...$0] } ?? "/"
            path = String(directory) + rest
            isAbsolute = false
        }
        // A dot segment a vendor or the lab's client decodes from escapes (`%2e%2e`, `%252e`, `..%2f`) would climb out
        // of the base path after this check: escaped dot segments are removed like plain ones, and a segment hiding
        // one behind an escaped separator is refused (never guessed at).
        guard let normalized = Self.removingDotSegments(path) else { return .foreign }
        let base = upstream.basePath
        guard base.isEmpty || normalized == base || normalized.hasPrefix(base + "/") else { return .foreign }
        let mapped = pathPrefix + normalized.dropFirst(base.count) + suffix
        // A relative reference stays relative; an absolute URL gets the lab's own address for Airlock.
        guard isAbsolute, let labAuthority, Self.isAuthority(labAuthority) else { return .mapped(mapped) }
        return .mapped("https://" + labAuthority + mapped)
    }

    /// The path of `authorityAndPath` (what follows `https://`) when its authority is the vendor's own.
    private static func onVendorOrigin(_ authorityAndPath: Substring, upstream: UpstreamURL) -> String? {
        let slash = authorityAndPath.firstIndex(of: "/") ?? authorityAndPath.endIndex
        let authority = authorityAndPath[..<slash]
        guard !authority.contains("@"), case .success(let url) = UpstreamURL.parse("https://" + authority),
            url.host == upstream.host, url.port == upstream.port
        else { return nil }
        let path = authorityAndPath[slash...]
        return path.isEmpty ? "/" : String(path)
    }

    /// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, Self.isLetter(first) else { return false }
        return text.utf8.allSatisfy {
            Self.isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "+")
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    /// A `Host` header fit to put in front of a path: a name, IPv4 or bracketed IPv6 literal, and a port.
    private static func isAuthority(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy {
                Self.isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".")
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[")
                    || $0 == UInt8(ascii: "]")
            }
    }

    /// RFC 3986 §5.2.4 on an absolute path: `.` segments dropped, `..` removes the one before (never above `/`).
    /// A segment that reads as `.` or `..` once percent-decoded (`%2e%2E`, `.%2e`, doubly encoded `%252e`) is a dot
    /// segment too. `nil` when a segment decodes to text holding a separator (`/`, `\`) next to a dot segment
    /// (`..%2f..`): readers split such a segment differently, so the path is refused.
    static func removingDotSegments(_ path: String) -> String? {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            guard let dots = Self.dotSegment(segment) else { return nil }
            switch dots {
            case 1:
                if isLast { output.append("") }
            case 2:
                _ = output.popLast()
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }

    /// How many dots `segment` is as a dot segment (1, 2), 0 for an ordinary one, `nil` for one that hides a dot
    /// segment behind an escaped separator or a backslash. Judged on every decoding a reader might apply (up to
    /// three levels of percent-decoding).
    private static func dotSegment(_ segment: Substring) -> Int? {
        var text = String(segment)
        for _ in 0..<4 {
            if text == "." { return 1 }
            if text == ".." { return 2 }
            let pieces = text.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
            if pieces.count > 1, pieces.contains(where: { $0 == "." || $0 == ".." }) { return nil }
            guard text.contains("%"), let decoded = text.removingPercentEncoding, decoded != text else { return 0 }
            text = decoded
        }
        return 0
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let utf8 = self.utf8
        let start = utf8.firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } ?? utf8.endIndex
        let end = utf8.lastIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }.map { utf8.index(after: $0) }
        return self[start..<(end ?? start)]
    }
}
