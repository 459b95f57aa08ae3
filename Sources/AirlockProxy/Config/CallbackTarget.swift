/// An `http://` or `https://` URL inside the lab that callbacks are delivered to.
public struct CallbackTarget: Sendable, Hashable, CustomStringConvertible {
    public var isTLS: Bool
    /// Lower-cased host name or IP literal (without brackets).
    public var host: String
    public var port: Int
    /// Starts with `/`; never empty, never ends with `/` unless it is `/`.
    public var path: String

    public init(isTLS: Bool, host: String, port: Int, path: String) {
        self.isTLS = isTLS
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses an absolute `http(s)://host[:port][/path]` URL without query, fragment or user info.
    public static func parse(_ text: String) -> Result<CallbackTarget, UpstreamURLError> {
        let lower = text.lowercased()
        let isTLS: Bool
        if lower.hasPrefix("https://") {
            isTLS = true
        } else if lower.hasPrefix("http://") {
            isTLS = false
        } else {
            return .failure(UpstreamURLError(reason: "must start with http:// or https://"))
        }
        // UpstreamURL parses the authority and path the same way for both schemes.
        let rest = text.dropFirst(isTLS ? 8 : 7)
        switch UpstreamURL.parse("https://" + rest) {
        case .failure(let error):
            return .failure(error)
        case .success(let url):
            let explicitPort = Self.hasExplicitPort(rest)
            return .success(
                CallbackTarget(
                    isTLS: isTLS,
                    host: url.host,
                    port: explicitPort ? url.port : (isTLS ? 443 : 80),
                    path: url.basePath.isEmpty ? "/" : url.basePath
                )
            )
        }
    }

    private static func hasExplicitPort(_ rest: Substring) -> Bool {
        let authority = rest.prefix { $0 != "/" }
        if let close = authority.lastIndex(of: "]") {
            return authority[close...].contains(":")
        }
        return authority.contains(":")
    }

    /// The `Host` header: the port appears only when it is not the scheme's default.
    public var hostHeader: String {
        hostHeaderValue(host: self.host, port: self.port, defaultPort: self.isTLS ? 443 : 80)
    }

    public var description: String { "\(self.isTLS ? "https" : "http")://\(self.hostHeader)\(self.path)" }
}
