import AirlockSupport
import Foundation

/// Ed25519 signatures over a report file (`airlock log hunt --report`), made with the audit signing key so that
/// whoever holds the audit public key can check the report was written by the holder of the log's key and not
/// changed since.
///
/// The signed message is a fixed domain prefix followed by the file's exact bytes: a report signature can never be
/// taken for a checkpoint signature (whose messages start `airlock-audit-checkpoint/v1`) or the other way round.
public enum ReportSignature {
    static let domain = Array("airlock-hunt-report/v1\n".utf8)

    /// Signs `bytes` with the PEM Ed25519 private key at `keyPath`.
    public static func sign(_ bytes: [UInt8], keyPath: URL) throws(AuditError) -> (keyID: String, signature: String) {
        let key = try SigningKey(path: keyPath)
        let signature = try key.sign(domain + bytes)
        return (key.keyID, Base64.encode(signature))
    }

    /// Checks `signature` (base64) over `bytes` against the PEM public keys at `publicKeys`; returns the `key_id` of
    /// the key that made it.
    public static func verify(
        _ bytes: [UInt8],
        signature: String,
        keyID: String,
        publicKeys: [URL]
    ) throws(AuditError) -> String {
        var keys: [VerifyingKey] = []
        for path in publicKeys { keys.append(try VerifyingKey(path: path)) }
        guard let key = keys.first(where: { $0.keyID == keyID }) else {
            throw AuditError(
                .signingKey,
                "the report is signed by key_id \(keyID), which is not a given public key "
                    + "(\(keys.map(\.keyID).joined(separator: ", ")))"
            )
        }
        guard let raw = Data(base64Encoded: signature), key.isValid(signature: Array(raw), for: domain + bytes) else {
            throw AuditError(.corrupt, "the report's Ed25519 signature does not match: the report was altered")
        }
        return key.keyID
    }
}
