import Foundation

/// The host of a URL or bare host match.
enum URLHost {
    static func extract(_ text: String, hasScheme: Bool) -> String? {
        var rest = Substring(text)
        if hasScheme {
            guard let range = rest.range(of: "://") else { return nil }
            rest = rest[range.upperBound...]
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var host = authority
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            return String(host[host.index(after: host.startIndex)..<close]).lowercased()
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        while host.hasSuffix(".") { host = host.dropLast() }
        return host.isEmpty ? nil : host.lowercased()
    }
}
