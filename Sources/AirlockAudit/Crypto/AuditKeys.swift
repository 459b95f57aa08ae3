import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import Foundation

/// Ed25519 keys for checkpoint signatures.
public enum AuditKeys {
    /// A fresh Ed25519 key pair from OpenSSL's generator.
    public static func generateEd25519() throws(AuditError) -> AuditKeyPair {
        ERR_clear_error()
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw AuditError(.signingKey, "cannot create an Ed25519 key context: \(openSSLErrors())")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw AuditError(.signingKey, "Ed25519 key generation failed: \(openSSLErrors())")
        }
        defer { EVP_PKEY_free(key) }
        let privatePEM = try pem { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) }
        let publicPEM = try pem { bio in PEM_write_bio_PUBKEY(bio, key) }
        return AuditKeyPair(privateKeyPEM: privatePEM, publicKeyPEM: publicPEM, keyID: try keyID(of: key))
    }

    /// The `key_id` of a PEM public key (or of the public half of a PEM private key).
    public static func keyID(pem: String) throws(AuditError) -> String {
        if pem.contains("PRIVATE KEY") {
            return try SigningKey(pem: Array(pem.utf8), source: "key").keyID
        }
        return try VerifyingKey(pem: Array(pem.utf8), source: "key").keyID
    }

    static func keyID(of key: OpaquePointer) throws(AuditError) -> String {
        var der: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &der)
        guard length > 0, let der else {
            throw AuditError(.signingKey, "cannot encode the public key: \(openSSLErrors())")
        }
        defer { CRYPTO_free(der, #fileID, #line) }
        return String(SHA256.hex(Array(UnsafeBufferPointer(start: der, count: Int(length)))).prefix(16))
    }

    /// The bytes of a PEM key file, for the `init(path:)` of ``SigningKey`` and ``VerifyingKey``.
    static func readPEM(_ path: URL, what: String) throws(AuditError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: path))
        } catch {
            throw AuditError(.signingKey, "cannot read the \(what) \(path.path): \(error.localizedDescription)")
        }
    }

    /// Parses an Ed25519 key from PEM (a private key with `readsPrivateKey`, else a public key) and computes its
    /// `key_id`. The caller owns the returned key and frees it with `EVP_PKEY_free`; on a throw nothing is left to
    /// free. `notPEM` and `notEd25519Hint` complete the error messages.
    static func loadEd25519(
        pem: [UInt8],
        source: String,
        readsPrivateKey: Bool,
        notPEM: String,
        notEd25519Hint: String
    ) throws(AuditError) -> (key: OpaquePointer, keyID: String) {
        ERR_clear_error()
        let loaded: OpaquePointer? = pem.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return readsPrivateKey
                ? PEM_read_bio_PrivateKey(bio, nil, nil, nil) : PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let loaded else {
            throw AuditError(.signingKey, "\(source) is not \(notPEM): \(openSSLErrors())")
        }
        guard EVP_PKEY_get_base_id(loaded) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(loaded)
            throw AuditError(.signingKey, "\(source) is not an Ed25519 key\(notEd25519Hint)")
        }
        do {
            return (loaded, try keyID(of: loaded))
        } catch {
            EVP_PKEY_free(loaded)
            throw error
        }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws(AuditError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw AuditError(.signingKey, "cannot allocate a BIO") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw AuditError(.signingKey, "cannot write PEM: \(openSSLErrors())") }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let read = chunk.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
            if read <= 0 { break }
            out.append(contentsOf: chunk[0..<Int(read)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Drains OpenSSL's error queue into one line.
func openSSLErrors() -> String {
    var buffer = [CChar](repeating: 0, count: 1024)
    let count = COpenSSLShims_ERR_drain_text(&buffer, buffer.count)
    guard count > 0 else { return "no OpenSSL error reported" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
