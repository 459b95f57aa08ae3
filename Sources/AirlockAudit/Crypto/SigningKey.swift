import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import Foundation

/// The Ed25519 private key that signs checkpoints. Immutable after loading; each signature uses its own digest
/// context, so one key may sign from any thread.
final class SigningKey: @unchecked Sendable {
    private let key: OpaquePointer
    let keyID: String

    convenience init(path: URL) throws(AuditError) {
        try self.init(pem: AuditKeys.readPEM(path, what: "audit signing key"), source: path.path)
    }

    init(pem: [UInt8], source: String) throws(AuditError) {
        (key, keyID) = try AuditKeys.loadEd25519(
            pem: pem,
            source: source,
            readsPrivateKey: true,
            notPEM: "a PEM private key",
            notEd25519Hint: " (run `airlock certs init` to create one)"
        )
    }

    deinit { EVP_PKEY_free(key) }

    func sign(_ message: [UInt8]) throws(AuditError) -> [UInt8] {
        ERR_clear_error()
        guard let context = EVP_MD_CTX_new() else { throw AuditError(.signingKey, "cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        let ok = message.withUnsafeBytes { input in
            signature.withUnsafeMutableBytes { output in
                EVP_DigestSignInit(context, nil, nil, nil, key) == 1
                    && EVP_DigestSign(
                        context,
                        output.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        &length,
                        input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        input.count
                    ) == 1
            }
        }
        guard ok, length == 64 else { throw AuditError(.signingKey, "Ed25519 signing failed: \(openSSLErrors())") }
        return signature
    }
}
