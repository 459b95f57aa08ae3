import AirlockPolicy

/// The configured sources (`assets.sources`): which URLs the gateway may fetch, and from where.
struct AssetSources: Sendable {
    let sources: [AssetSource]

    /// Where a URL is fetched from: always https, on a plain host.
    struct Target: Equatable {
        var host: String
        var port: Int
        /// Path and query, as sent in the request line.
        var pathAndQuery: String
    }

    /// The fetch target of `text` when it is under a configured source, nil otherwise (never fetched).
    func target(for text: String) -> Target? {
        guard let url = AssetURL(text) else { return nil }
        for source in self.sources {
            if let target = Self.target(url, source) { return target }
        }
        return nil
    }

    private static func target(_ url: AssetURL, _ source: AssetSource) -> Target? {
        let query = url.query.map { "?" + $0 } ?? ""
        switch source {
        case .prefix(let prefix, let fetchFrom):
            guard url.scheme == prefix.scheme, prefix.host.matches(url.host),
                url.effectivePort == prefix.port
                    ?? (prefix.scheme == "https" ? 443 : nil),
                url.path.hasPrefix(prefix.path)
            else { return nil }
            let rest = url.path.dropFirst(prefix.path.count)
            // A glob's fetch host is the URL's own (checked above); a plain one is the configured host.
            let host = fetchFrom.host.pattern.contains("*") ? url.host : fetchFrom.host.pattern
            return Target(host: host, port: fetchFrom.port ?? 443, pathAndQuery: fetchFrom.path + rest + query)
        case .presigned(let style, let buckets):
            guard url.scheme == "https", url.port == nil || url.port == 443, url.isSigned(style),
                let bucket = Self.bucket(of: url, style: style),
                buckets.isEmpty || buckets.contains(bucket)
            else { return nil }
            return Target(host: url.host, port: 443, pathAndQuery: url.path + query)
        }
    }

    /// The bucket a presigned link names: virtual-hosted (`<bucket>.s3[.<region>].amazonaws.com`,
    /// `<bucket>.storage.googleapis.com`) or path-style (`s3[.<region>].amazonaws.com/<bucket>/…`,
    /// `storage.googleapis.com/<bucket>/…`); nil for any other host.
    static func bucket(of url: AssetURL, style: AssetSource.PresignedStyle) -> String? {
        let firstSegment = url.path.split(separator: "/").first.map(String.init)
        switch style {
        case .gcs:
            if url.host == "storage.googleapis.com" { return firstSegment }
            let suffix = ".storage.googleapis.com"
            return url.host.hasSuffix(suffix) ? String(url.host.dropLast(suffix.count)) : nil
        case .s3:
            guard url.host.hasSuffix(".amazonaws.com") else { return nil }
            let labels = url.host.dropLast(".amazonaws.com".count).split(
                separator: ".",
                omittingEmptySubsequences: false
            )
            guard let s3 = labels.firstIndex(where: { $0 == "s3" || $0.hasPrefix("s3-") }),
                labels[s3...].count <= 3
            else { return nil }
            if s3 == 0 { return firstSegment }
            return labels[..<s3].joined(separator: ".")
        }
    }
}
