import Foundation

/// A URL as the asset gateway reads it, strictly: `scheme://host[:port]/path[?query]`, without user info, and with
/// a path that means what it says (no `.`/`..` segments, no escaped dot, slash or backslash, no backslash). A value
/// that does not parse this way is never matched to a source: it is refused if it otherwise looks like one.
struct AssetURL: Equatable {
    var scheme: String
    var host: String
    var port: Int?
    var path: String
    var query: String?

    init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let separator = text.range(of: "://"), !text.contains("\\"), !text.contains("#"),
            text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        self.scheme = text[..<separator.lowerBound].lowercased()
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains("%"), !authority.hasPrefix("[") else {
            return nil
        }
        if let colon = authority.lastIndex(of: ":") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            self.port = port
            self.host = authority[..<colon].lowercased()
        } else {
            self.port = nil
            self.host = authority.lowercased()
        }
        var host = self.host
        while host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty else { return nil }
        self.host = host
        let afterAuthority = rest[authorityEnd...]
        let queryStart = afterAuthority.firstIndex(of: "?")
        let path = String(afterAuthority[..<(queryStart ?? afterAuthority.endIndex)])
        self.path = path.isEmpty ? "/" : path
        self.query = queryStart.map { String(afterAuthority[afterAuthority.index(after: $0)...]) }
        let lowered = self.path.lowercased()
        guard !lowered.contains("%2e"), !lowered.contains("%2f"), !lowered.contains("%5c"), !lowered.contains("%00"),
            !self.path.split(separator: "/", omittingEmptySubsequences: false).contains(where: {
                $0 == "." || $0 == ".."
            })
        else { return nil }
    }

    /// The port a fetch connects to (443 for https).
    var effectivePort: Int? { self.port ?? (self.scheme == "https" ? 443 : nil) }

    /// Whether the query carries a cloud store's request signature (`X-Amz-Signature`, `X-Goog-Signature`).
    func isSigned(_ style: AssetSource.PresignedStyle) -> Bool {
        guard let query = self.query?.lowercased() else { return false }
        let name = style == .s3 ? "x-amz-signature=" : "x-goog-signature="
        return query.split(separator: "&").contains { $0.hasPrefix(name) }
    }
}

/// Whether a text names a cloud bucket object: `gs://` and `s3://` URLs, Google Cloud Storage and Amazon S3 hosts,
/// Cloud Storage's JSON API, and any link carrying a presigned-URL signature. Lenient, as a vendor's client is.
enum BucketURL {
    static func matches(_ text: String) -> Bool {
        let lowered = text.lowercased()
        if lowered.contains("x-amz-signature=") || lowered.contains("x-goog-signature=")
            || lowered.contains("x-amz-credential=") || lowered.contains("x-goog-credential=")
        {
            return true
        }
        let trimmed = lowered.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("gs://") || trimmed.hasPrefix("s3://") { return true }
        guard let url = CallbackURL(text) else { return false }
        return Self.isBucketHost(url.host) || Self.isCloudStorageAPI(host: url.host, path: url.path)
    }

    /// Cloud Storage's JSON API on `www.googleapis.com`: `/storage/v1/b/<bucket>/…` and its media download path
    /// `/download/storage/v1/b/<bucket>/…` name a bucket and fetch its objects like `storage.googleapis.com`.
    static func isCloudStorageAPI(host: String, path: String) -> Bool {
        guard host == "www.googleapis.com" else { return false }
        let lowered = path.lowercased()
        return ["/storage/", "/download/storage/", "/upload/storage/"].contains { lowered.hasPrefix($0) }
    }

    static func isBucketHost(_ host: String) -> Bool {
        if host == "storage.googleapis.com" || host.hasSuffix(".storage.googleapis.com")
            || host == "storage.cloud.google.com"
        {
            return true
        }
        guard host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn") else { return false }
        return host.split(separator: ".").contains { $0 == "s3" || $0.hasPrefix("s3-") }
    }
}
