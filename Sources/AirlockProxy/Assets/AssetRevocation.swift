import Foundation

/// What `airlock assets revoke` does: appends to the revocation list the running gateway rereads
/// (``AssetRevocations``), durably (fsync) before it returns.
public enum AssetRevocation {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Revokes every token issued to `vendor` until now.
    public static func revoke(vendor: String, in configuration: ProxyConfiguration, now: Date = Date()) throws(Failure)
    {
        let assets = try Self.assets(configuration)
        guard configuration.vendors.contains(where: { $0.name == vendor }) else {
            throw Failure(description: "no vendor named \(vendor) in the configuration")
        }
        try Self.append(AssetRevocations.vendorLine(vendor, at: now), to: assets.revocationsPath)
    }

    /// Revokes one token, given as its text (`<vendor>.<…>`, or a whole asset URL) or its fingerprint (16 hex digits,
    /// as `airlock log show` lists it in the path `/assets/<fingerprint>`). Returns the fingerprint.
    @discardableResult
    public static func revoke(token: String, in configuration: ProxyConfiguration) throws(Failure) -> String {
        let assets = try Self.assets(configuration)
        var text = Substring(token.trimmingCharacters(in: .whitespacesAndNewlines))
        if let range = text.range(of: "/assets/") { text = text[range.upperBound...] }
        if text.hasPrefix("/assets/") { text = text.dropFirst("/assets/".count) }
        let isFingerprint = text.count == 16 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        guard isFingerprint || text.contains(".") else {
            throw Failure(description: "--token takes a token (vendor.…), an asset URL or a 16-digit fingerprint")
        }
        let fingerprint = isFingerprint ? String(text) : AssetToken.fingerprint(text)
        try Self.append(AssetRevocations.tokenLine(fingerprint), to: assets.revocationsPath)
        return fingerprint
    }

    private static func assets(_ configuration: ProxyConfiguration) throws(Failure) -> AssetsConfiguration {
        guard let assets = configuration.assets else {
            throw Failure(description: "the configuration has no assets: section, so no token was ever issued")
        }
        return assets
    }

    private static func append(_ line: String, to path: String) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Failure(description: "cannot open the revocation list \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw Failure(description: "cannot write the revocation list \(path): \(String(cString: strerror(errno)))")
        }
    }
}
