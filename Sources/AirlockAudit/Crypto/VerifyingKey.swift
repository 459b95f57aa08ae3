import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import Foundation

/// An Ed25519 public key that checks checkpoint signatures.
final class VerifyingKey: @unchecked Sendable {
    private let key: OpaquePointer
    let keyID: String

    convenience init(path: URL) throws(AuditError) {
        try self.init(pem: AuditKeys.readPEM(path, what: "public key"), source: path.path)
    }

    /// Accepts a PEM public key, or a PEM private key whose public half is used.
    init(pem: [UInt8], source: String) throws(AuditError) {
        (key, keyID) = try AuditKeys.loadEd25519(
            pem: pem,
            source: source,
            readsPrivateKey: String(decoding: pem, as: UTF8.self).contains("PRIVATE KEY"),
            notPEM: "a PEM public key",
            notEd25519Hint: ""
        )
    }

    deinit { EVP_PKEY_free(key) }

    func isValid(signature: [UInt8], for message: [UInt8]) -> Bool {
        ERR_clear_error()
        defer { ERR_clear_error() }
        guard signature.count == 64, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        return message.withUnsafeBytes { input in
            signature.withUnsafeBytes { sig in
                EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1
                    && EVP_DigestVerify(
                        context,
                        sig.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        sig.count,
                        input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        input.count
                    ) == 1
            }
        }
    }
}
