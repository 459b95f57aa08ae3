/// A vendor's base URL (`https://api.scale.com`, `https://127.0.0.1:9443/api`), split for connecting and rewriting.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP literal (without brackets); used to connect, as SNI and for the certificate name check.
    public let host: String
    public let port: Int
    /// Path prepended to the forwarded path; empty or starting with `/` and never ending with `/`.
    public let basePath: String
    /// The value of the `Host` header sent to the vendor: the port appears only when it is not 443. Built once here:
    /// every forwarded request carries it.
    public let hostHeader: String

    public init(host: String, port: Int = 443, basePath: String = "") {
        self.host = host
        self.port = port
        self.basePath = basePath
        self.hostHeader = hostHeaderValue(host: host, port: port, defaultPort: 443)
    }

    /// Parses an `https://` URL with no query, fragment or user info. Returns nil and a reason when it cannot be used.
    public static func parse(_ text: String) -> Result<UpstreamURL, UpstreamURLError> {
        let scheme = "https://"
        guard text.lowercased().hasPrefix(scheme) else {
            return .failure(UpstreamURLError(reason: "must start with https:// (Airlock only talks TLS to vendors)"))
        }
        let rest = text.dropFirst(scheme.count)
        if rest.contains("?") || rest.contains("#") || rest.contains("@") {
            return .failure(UpstreamURLError(reason: "must not carry a query, a fragment or user info"))
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        while path.hasSuffix("/") { path.removeLast() }
        var host: String
        var port = 443
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(UpstreamURLError(reason: "has an unterminated IPv6 literal"))
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else {
                    return .failure(UpstreamURLError(reason: "has an invalid port"))
                }
                port = parsed
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                return .failure(UpstreamURLError(reason: "has an invalid port"))
            }
            port = parsed
        } else {
            host = String(authority)
        }
        host = host.lowercased()
        guard !host.isEmpty else { return .failure(UpstreamURLError(reason: "has no host")) }
        return .success(UpstreamURL(host: host, port: port, basePath: path))
    }

    public var description: String { "https://\(self.hostHeader)\(self.basePath)" }
}

/// `host[:port]` for a `Host` header: an IPv6 literal in brackets, the port only when it is not the scheme's default.
func hostHeaderValue(host: String, port: Int, defaultPort: Int) -> String {
    let name = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
    return port == defaultPort ? name : "\(name):\(port)"
}

public struct UpstreamURLError: Error, Sendable {
    public var reason: String
}
