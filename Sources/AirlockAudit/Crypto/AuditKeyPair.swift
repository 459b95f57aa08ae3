import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import Foundation

/// An Ed25519 key pair in PEM (PKCS#8 private key, SubjectPublicKeyInfo public key), as `airlock certs init` writes
/// to `Certs/audit-signing.key` and `Certs/audit-signing.pub`.
public struct AuditKeyPair: Sendable {
    public var privateKeyPEM: String
    public var publicKeyPEM: String
    /// First 16 hex digits of SHA-256 over the public key's DER: the `key_id` written in checkpoints.
    public var keyID: String
}
