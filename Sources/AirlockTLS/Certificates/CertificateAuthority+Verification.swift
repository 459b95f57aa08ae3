internal import COpenSSL
import Foundation

extension CertificateAuthority {
    /// Why `leaf` does not verify as a TLS server certificate for `hostname` with this CA as the only trust anchor
    /// (chain, validity, purpose, name and the CA's name constraints, as OpenSSL's verifier judges them); nil when
    /// it verifies.
    public func verificationFailure(of leaf: Certificate, hostname: String) -> String? {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        guard let store = X509_STORE_new() else { return "cannot allocate a certificate store" }
        defer { X509_STORE_free(store) }
        guard X509_STORE_add_cert(store, self.certificate.x509) == 1, let context = X509_STORE_CTX_new() else {
            return "cannot set up certificate verification"
        }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf.x509, nil) == 1,
            X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER) == 1,
            X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(context), hostname, 0) == 1
        else {
            return "cannot set up certificate verification"
        }
        if X509_verify_cert(context) == 1 { return nil }
        return String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context))))
    }

    /// Throws unless a server certificate this CA issues for `host` verifies against it: a CA whose name
    /// constraints do not permit `host` is found when Airlock starts, not by a client's failed handshake.
    public func checkCanVouch(for host: String) throws(CertificateError) {
        let leaf = try self.issue(commonName: "check", dnsNames: [host], key: try PrivateKey(generating: .ecdsaP256))
        if let failure = self.verificationFailure(of: leaf, hostname: host) {
            throw CertificateError(
                code: .invalidInput,
                message: "a certificate from the CA \(self.certificate.subject) for \(host) does not verify: \(failure)"
            )
        }
    }
}
