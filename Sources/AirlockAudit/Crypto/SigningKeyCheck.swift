import Foundation

/// Checks an audit signing key file without opening a log (for `airlock check --config`).
public enum SigningKeyCheck {
    /// Loads the key at `path` as the audit log would.
    /// - Throws: ``AuditError`` (`signingKey`) saying why the key cannot be used.
    public static func validate(path: URL) throws(AuditError) {
        _ = try SigningKey(path: path)
    }
}
