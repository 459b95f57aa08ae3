internal import COpenSSL

/// The algorithms fetched from OpenSSL's default provider once per process: a fetch by name takes a lock and a
/// table lookup, which cost more than hashing a short value. Fetched algorithms are immutable and shared freely
/// between threads.
final class Algorithms: @unchecked Sendable {
    static let shared = Algorithms()

    let sha256: OpaquePointer
    let aes256SIV: OpaquePointer

    private init() {
        ERR_clear_error()
        guard let sha256 = EVP_MD_fetch(nil, "SHA256", nil) else { preconditionFailure("OpenSSL has no SHA-256") }
        guard let siv = EVP_CIPHER_fetch(nil, "AES-256-SIV", nil) else {
            preconditionFailure("OpenSSL 3 has no AES-256-SIV")
        }
        self.sha256 = sha256
        self.aes256SIV = siv
    }
}
