import AirlockSupport
internal import COpenSSL
import Foundation

/// A private key (and its public half) held by OpenSSL.
///
/// Immutable once created and safe to share between threads. `pemRepresentation` is the only way key material
/// leaves this type; nothing else (descriptions, errors) ever contains it.
public final class PrivateKey: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: the EVP_PKEY is never mutated after init, and OpenSSL's reference counting is atomic.
    let pkey: OpaquePointer

    /// Key algorithms Airlock generates.
    public enum Algorithm: Sendable, Hashable, CustomStringConvertible {
        /// ECDSA over NIST P-256: fast to generate and sign with; the default for certificates.
        case ecdsaP256
        /// RSA with the given modulus size (2048 or more).
        case rsa(bits: Int)
        /// Ed25519: used for signatures outside TLS (the audit log checkpoints).
        case ed25519

        public var description: String {
            switch self {
            case .ecdsaP256: "ECDSA P-256"
            case .rsa(let bits): "RSA \(bits)"
            case .ed25519: "Ed25519"
            }
        }
    }

    /// Generates a fresh key with OpenSSL's default random generator.
    public init(generating algorithm: Algorithm = .ecdsaP256) throws(CertificateError) {
        OpenSSLErrorQueue.clear()
        let name: String
        switch algorithm {
        case .ecdsaP256: name = "EC"
        case .rsa(let bits):
            guard bits >= 2048, bits <= 16384 else {
                throw CertificateError(
                    code: .invalidInput,
                    message: "RSA keys must have 2048 to 16384 bits, not \(bits)"
                )
            }
            name = "RSA"
        case .ed25519: name = "ED25519"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw .openSSL(.internalError, "OpenSSL cannot generate \(algorithm) keys")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else {
            throw .openSSL(.internalError, "cannot start \(algorithm) key generation")
        }
        switch algorithm {
        case .ecdsaP256:
            guard EVP_PKEY_CTX_set_group_name(context, "P-256") == 1 else {
                throw .openSSL(.internalError, "cannot select the P-256 curve")
            }
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1 else {
                throw .openSSL(.internalError, "cannot set the RSA key size to \(bits)")
            }
        case .ed25519:
            break
        }
        var generated: OpaquePointer?
        guard EVP_PKEY_keygen(context, &generated) == 1, let generated else {
            throw .openSSL(.internalError, "\(algorithm) key generation failed")
        }
        self.pkey = generated
    }

    /// Loads a private key from PEM text (PKCS#8, or the traditional RSA/EC formats). Encrypted keys are refused.
    public convenience init(pemRepresentation: String) throws(CertificateError) {
        try self.init(pemRepresentation: pemRepresentation, source: "PEM text")
    }

    /// Loads a private key from a PEM file.
    public convenience init(pemFile path: String) throws(CertificateError) {
        let text = try CertificateBIO.readFile(path, what: "private key")
        try self.init(pemRepresentation: text, source: path)
    }

    private init(pemRepresentation: String, source: String) throws(CertificateError) {
        OpenSSLErrorQueue.clear()
        let loaded = try CertificateBIO.reading(pemRepresentation) { bio throws(CertificateError) -> OpaquePointer in
            // An encrypted key is an error, never a prompt on a server (the same rule as the TLS contexts).
            guard let key = PEM_read_bio_PrivateKey(bio, nil, refusePassphrase, nil) else {
                throw .openSSL(.invalidInput, "no usable private key in \(source) (expected unencrypted PEM)")
            }
            return key
        }
        self.pkey = loaded
    }

    /// Takes ownership of an EVP_PKEY reference.
    init(taking pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(self.pkey)
    }

    /// The private key as PEM PKCS#8 (`-----BEGIN PRIVATE KEY-----`), unencrypted. Secret: write it with mode 0600.
    public var pemRepresentation: String {
        get throws(CertificateError) {
            OpenSSLErrorQueue.clear()
            return try CertificateBIO.writing("the private key") { bio in
                PEM_write_bio_PKCS8PrivateKey(bio, self.pkey, nil, nil, 0, nil, nil) == 1
            }
        }
    }

    /// The public key as PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
    public var publicKeyPEM: String {
        get throws(CertificateError) {
            OpenSSLErrorQueue.clear()
            return try CertificateBIO.writing("the public key") { bio in
                PEM_write_bio_PUBKEY(bio, self.pkey) == 1
            }
        }
    }

    /// DER SubjectPublicKeyInfo of the public half.
    public var publicKeyDER: [UInt8] {
        // Encoding a key OpenSSL already holds only fails on allocation failure.
        guard let der = CertificateDigest.der({ i2d_PUBKEY(self.pkey, $0) }) else {
            preconditionFailure("i2d_PUBKEY failed on a valid key")
        }
        return der
    }

    /// base64(SHA-256(DER SubjectPublicKeyInfo)): the same pin a certificate for this key has.
    public var spkiSHA256Base64: String {
        Data(SHA256.hash(self.publicKeyDER)).base64EncodedString()
    }

    /// The algorithm of this key, if it is one Airlock generates (nil for e.g. other elliptic curves).
    public var algorithm: Algorithm? {
        switch EVP_PKEY_get_base_id(self.pkey) {
        case EVP_PKEY_RSA: return .rsa(bits: Int(EVP_PKEY_get_bits(self.pkey)))
        case EVP_PKEY_ED25519: return .ed25519
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(self.pkey, &name, name.count, &length) == 1 else { return nil }
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return group == "prime256v1" || group == "P-256" ? .ecdsaP256 : nil
        default: return nil
        }
    }

    var isRSA: Bool { EVP_PKEY_get_base_id(self.pkey) == EVP_PKEY_RSA }

    /// The digest to sign certificates with: SHA-256, or none for Ed25519/Ed448, which hash internally.
    var signingDigest: OpaquePointer? {
        switch EVP_PKEY_get_base_id(self.pkey) {
        case EVP_PKEY_ED25519, EVP_PKEY_ED448: nil
        default: EVP_sha256()
        }
    }

    /// Names the algorithm and the public key's pin; never key material.
    public var description: String {
        let kind = self.algorithm.map(String.init(describing:)) ?? "key"
        return "PrivateKey(\(kind), spki-sha256 \(self.spkiSHA256Base64))"
    }
}
