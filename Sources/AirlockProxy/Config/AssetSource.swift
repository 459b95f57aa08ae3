import AirlockPolicy

/// One place the asset gateway may fetch from (`assets.sources[]`).
public enum AssetSource: Sendable, Equatable {
    /// URLs under a prefix: `https://files.corp.example.com/datasets/` (the host may be a `*.` glob), or a bucket,
    /// `gs://lab-data/` or `s3://lab-data/`. Fetched from `fetchFrom` followed by the rest of the URL: for `https`
    /// the URL itself, for buckets their public HTTPS endpoint unless the configuration names another.
    case prefix(AssetURLPrefix, fetchFrom: AssetURLPrefix)
    /// Presigned links of a cloud store (`X-Amz-Signature=` on `*.s3.amazonaws.com`, `X-Goog-Signature=` on
    /// `storage.googleapis.com`), of the listed buckets (empty: any bucket).
    case presigned(PresignedStyle, buckets: [String])

    public enum PresignedStyle: String, Sendable, Equatable, CaseIterable {
        case s3
        case gcs
    }
}

/// `scheme://host[:port]/path/` with a host glob; the path ends with `/` (a prefix of whole segments).
public struct AssetURLPrefix: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: HostPattern
    public var port: Int?
    public var path: String

    public init(scheme: String, host: HostPattern, port: Int? = nil, path: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path.hasSuffix("/") ? path : path + "/"
    }

    /// Parses `scheme://host[:port][/path]` (schemes https, gs, s3); nil with a reason otherwise.
    public static func parse(_ text: String) -> Result<AssetURLPrefix, AssetSourceError> {
        guard let separator = text.range(of: "://") else {
            return .failure(AssetSourceError("must be scheme://host/path/ (https, gs or s3)"))
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard ["https", "gs", "s3"].contains(scheme) else {
            return .failure(AssetSourceError("must use https, gs or s3 (Airlock fetches over verified TLS only)"))
        }
        let rest = text[separator.upperBound...]
        guard !rest.contains("?"), !rest.contains("#"), !rest.contains("@"), !rest.contains("%"), !rest.contains("\\")
        else {
            return .failure(AssetSourceError("must not carry a query, fragment, user info or escape"))
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var host = rest[..<authorityEnd]
        var port: Int?
        if let colon = host.lastIndex(of: ":"), !host.hasPrefix("[") {
            guard let value = Int(host[host.index(after: colon)...]), (1...65535).contains(value) else {
                return .failure(AssetSourceError("has an invalid port"))
            }
            port = value
            host = host[..<colon]
        }
        guard let pattern = HostPattern(String(host)) else {
            return .failure(AssetSourceError("has no valid host (a name, an address or a *.domain glob)"))
        }
        let path = String(rest[authorityEnd...])
        guard !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            return .failure(AssetSourceError("must not hold . or .. segments"))
        }
        return .success(AssetURLPrefix(scheme: scheme, host: pattern, port: port, path: path.isEmpty ? "/" : path))
    }

    public var description: String {
        "\(self.scheme)://\(self.host)\(self.port.map { ":\($0)" } ?? "")\(self.path)"
    }
}

public struct AssetSourceError: Error, Sendable {
    public var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
