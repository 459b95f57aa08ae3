internal import COpenSSL
import Foundation

/// One certificate under construction. Not shared; lives for the duration of one issue call.
final class CertificateBuilder {
    let x509: OpaquePointer

    init(subjectPublicKey key: PrivateKey, notBefore: Date, notAfter: Date) throws(CertificateError) {
        OpenSSLErrorQueue.clear()
        guard notBefore < notAfter else {
            throw CertificateError(
                code: .invalidInput,
                message: "the validity window is reversed: notBefore \(notBefore) is not before notAfter \(notAfter)"
            )
        }
        guard let x509 = X509_new() else {
            throw .openSSL(.internalError, "could not allocate a certificate")
        }
        self.x509 = x509
        guard X509_set_version(x509, Int(X509_VERSION_3)) == 1, X509_set_pubkey(x509, key.pkey) == 1 else {
            throw .openSSL(.internalError, "could not set the certificate version and public key")
        }
        try self.setSerial()
        try self.setTime(notBefore, X509_set1_notBefore, "notBefore")
        try self.setTime(notAfter, X509_set1_notAfter, "notAfter")
    }

    deinit {
        X509_free(self.x509)
    }

    /// A random positive 128-bit serial (RFC 5280 allows up to 20 octets; CAs must use at least 64 random bits).
    private func setSerial() throws(CertificateError) {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else {
            throw .openSSL(.internalError, "the random generator failed while making a serial number")
        }
        bytes[0] &= 0x7F
        bytes[0] |= 0x40  // never zero, never shorter than 16 octets
        guard let bignum = BN_bin2bn(bytes, Int32(bytes.count), nil) else {
            throw .openSSL(.internalError, "could not allocate a serial number")
        }
        defer { BN_free(bignum) }
        guard BN_to_ASN1_INTEGER(bignum, X509_get_serialNumber(self.x509)) != nil else {
            throw .openSSL(.internalError, "could not set the serial number")
        }
    }

    private func setTime(
        _ date: Date,
        _ setter: (OpaquePointer?, UnsafePointer<ASN1_TIME>?) -> Int32,
        _ what: String
    ) throws(CertificateError) {
        let seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        guard let time = ASN1_TIME_set(nil, seconds) else {
            throw .openSSL(.invalidInput, "\(date) cannot be a certificate's \(what)")
        }
        defer { ASN1_TIME_free(time) }
        guard setter(self.x509, time) == 1 else {
            throw .openSSL(.internalError, "could not set \(what)")
        }
    }

    func setSubject(commonName: String, organization: String?) throws(CertificateError) {
        guard let name = X509_NAME_new() else {
            throw .openSSL(.internalError, "could not allocate a name")
        }
        defer { X509_NAME_free(name) }
        var entries: [(Int32, String)] = []
        if let organization { entries.append((NID_organizationName, organization)) }
        entries.append((NID_commonName, commonName))
        for (nid, value) in entries {
            guard !value.isEmpty, value.utf8.count <= 64 else {
                throw CertificateError(code: .invalidInput, message: "a subject name field must be 1 to 64 bytes long")
            }
            let bytes = Array(value.utf8)
            guard X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
                throw .openSSL(.invalidInput, "'\(value)' cannot be used in a certificate subject")
            }
        }
        guard X509_set_subject_name(self.x509, name) == 1 else {
            throw .openSSL(.internalError, "could not set the subject name")
        }
    }

    func setIssuer(_ issuer: OpaquePointer) throws(CertificateError) {
        guard X509_set_issuer_name(self.x509, X509_get_subject_name(issuer)) == 1 else {
            throw .openSSL(.internalError, "could not set the issuer name")
        }
    }

    /// Adds one extension from its OpenSSL config-text form (`critical,CA:TRUE`, `DNS:a,IP:1.2.3.4`, ...).
    func addExtension(_ nid: Int32, _ value: String, issuer: OpaquePointer) throws(CertificateError) {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer, self.x509, nil, nil, 0)
        guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
            let name = OBJ_nid2sn(nid).map { String(cString: $0) } ?? "extension \(nid)"
            throw .openSSL(.invalidInput, "cannot build \(name) = \(value)")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(self.x509, ext, -1) == 1 else {
            throw .openSSL(.internalError, "could not add an extension")
        }
    }

    func sign(with key: PrivateKey) throws(CertificateError) -> Certificate {
        guard X509_sign(self.x509, key.pkey, key.signingDigest) > 0 else {
            throw .openSSL(.internalError, "signing the certificate failed")
        }
        X509_up_ref(self.x509)
        return Certificate(taking: self.x509)
    }
}
