internal import COpenSSL
import Foundation

/// A certificate authority: a CA certificate and its private key, able to issue leaf certificates.
///
/// Issuing does not mutate the authority, so one instance may issue from many threads at once (the forward proxy
/// mints per host). Issuing a P-256 leaf takes well under a millisecond of CPU; generating its key is the
/// larger part of the cost.
public final class CertificateAuthority: Sendable {
    public let certificate: Certificate
    public let privateKey: PrivateKey

    /// What a leaf certificate may be used for (extendedKeyUsage).
    public enum Usage: Sendable, Hashable {
        case server
        case client
        case serverAndClient
    }

    /// Creates a self-signed CA: basicConstraints `critical, CA:TRUE`, keyUsage `critical, keyCertSign, cRLSign`,
    /// subjectKeyIdentifier and authorityKeyIdentifier, a random 128-bit serial.
    ///
    /// - Parameters:
    ///   - commonName: the CA's subject CN, e.g. `Airlock development CA`.
    ///   - organization: optional subject O.
    ///   - notBefore/notAfter: the validity window; defaults to now - 5 minutes (clock skew) through ten years.
    ///   - key: the CA key; a fresh P-256 key by default.
    public init(
        selfSignedCommonName commonName: String,
        organization: String? = nil,
        notBefore: Date = Date(timeIntervalSinceNow: -300),
        notAfter: Date = Date(timeIntervalSinceNow: 10 * 365 * 86_400),
        key: PrivateKey? = nil
    ) throws(CertificateError) {
        let key = if let key { key } else { try PrivateKey(generating: .ecdsaP256) }
        let builder = try CertificateBuilder(subjectPublicKey: key, notBefore: notBefore, notAfter: notAfter)
        try builder.setSubject(commonName: commonName, organization: organization)
        try builder.setIssuer(builder.x509)
        try builder.addExtension(NID_basic_constraints, "critical,CA:TRUE", issuer: builder.x509)
        try builder.addExtension(NID_key_usage, "critical,keyCertSign,cRLSign", issuer: builder.x509)
        try builder.addExtension(NID_subject_key_identifier, "hash", issuer: builder.x509)
        try builder.addExtension(NID_authority_key_identifier, "keyid:always", issuer: builder.x509)
        self.certificate = try builder.sign(with: key)
        self.privateKey = key
    }

    /// Uses an existing CA certificate and its key. Throws if the key does not belong to the certificate or the
    /// certificate is not a CA (basicConstraints CA:TRUE).
    public init(certificate: Certificate, privateKey: PrivateKey) throws(CertificateError) {
        guard certificate.matches(privateKey) else {
            throw CertificateError(
                code: .invalidInput,
                message: "the CA private key does not belong to the CA certificate \(certificate.subject)"
            )
        }
        guard certificate.isCertificateAuthority else {
            throw CertificateError(
                code: .invalidInput,
                message: "\(certificate.subject) is not a CA certificate (basicConstraints CA:TRUE is missing)"
            )
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads a CA from a PEM certificate file and a PEM key file.
    public convenience init(certificatePEMFile: String, privateKeyPEMFile: String) throws(CertificateError) {
        try self.init(
            certificate: Certificate(pemFile: certificatePEMFile),
            privateKey: PrivateKey(pemFile: privateKeyPEMFile)
        )
    }

    /// Issues a leaf certificate for `key`, signed by this CA.
    ///
    /// The leaf has basicConstraints `critical, CA:FALSE`; keyUsage `critical, digitalSignature` (plus
    /// `keyEncipherment` for RSA keys); extendedKeyUsage per `usage`; subjectAltName with every DNS name and IP
    /// address given; subject and authority key identifiers; a random positive 128-bit serial number.
    ///
    /// Nothing checks that the names are "right" or the window is current: tests need certificates for the wrong
    /// host, expired ones, and ones not valid yet.
    ///
    /// - Parameters:
    ///   - commonName: subject CN (clients verify the SANs, not the CN).
    ///   - dnsNames: DNS SANs, e.g. `["localhost"]`; wildcards such as `*.example.com` are passed through.
    ///   - ipAddresses: IP SANs as text, IPv4 or IPv6 (`127.0.0.1`, `::1`).
    ///   - notBefore/notAfter: the validity window; must not be reversed.
    ///   - key: the leaf's key. Give a fresh key per leaf.
    public func issue(
        commonName: String,
        dnsNames: [String] = [],
        ipAddresses: [String] = [],
        usage: Usage = .server,
        notBefore: Date = Date(timeIntervalSinceNow: -300),
        notAfter: Date = Date(timeIntervalSinceNow: 397 * 86_400),
        key: PrivateKey
    ) throws(CertificateError) -> Certificate {
        let builder = try CertificateBuilder(subjectPublicKey: key, notBefore: notBefore, notAfter: notAfter)
        try builder.setSubject(commonName: commonName, organization: nil)
        try builder.setIssuer(self.certificate.x509)
        let issuer = self.certificate.x509
        try builder.addExtension(NID_basic_constraints, "critical,CA:FALSE", issuer: issuer)
        let keyUsage = key.isRSA ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"
        try builder.addExtension(NID_key_usage, keyUsage, issuer: issuer)
        let extendedKeyUsage =
            switch usage {
            case .server: "serverAuth"
            case .client: "clientAuth"
            case .serverAndClient: "serverAuth,clientAuth"
            }
        try builder.addExtension(NID_ext_key_usage, extendedKeyUsage, issuer: issuer)
        let alternativeNames = try Self.subjectAlternativeNames(dnsNames: dnsNames, ipAddresses: ipAddresses)
        if !alternativeNames.isEmpty {
            try builder.addExtension(NID_subject_alt_name, alternativeNames, issuer: issuer)
        }
        try builder.addExtension(NID_subject_key_identifier, "hash", issuer: issuer)
        try builder.addExtension(NID_authority_key_identifier, "keyid:always", issuer: issuer)
        return try builder.sign(with: self.privateKey)
    }

    /// Builds the X509V3 config text for subjectAltName, refusing anything that could smuggle in other entries.
    private static func subjectAlternativeNames(
        dnsNames: [String],
        ipAddresses: [String]
    ) throws(CertificateError) -> String {
        var entries: [String] = []
        for name in dnsNames {
            let allowed = name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "*"),
                    UInt8(ascii: "_"):
                    true
                default: false
                }
            }
            guard allowed, !name.isEmpty else {
                throw CertificateError(code: .invalidInput, message: "'\(name)' is not a DNS name (use ASCII/punycode)")
            }
            entries.append("DNS:\(name)")
        }
        for address in ipAddresses {
            var storage = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET, address, &storage) == 1 || inet_pton(AF_INET6, address, &storage) == 1 else {
                throw CertificateError(code: .invalidInput, message: "'\(address)' is not an IPv4 or IPv6 address")
            }
            entries.append("IP:\(address)")
        }
        return entries.joined(separator: ",")
    }
}

/// One certificate under construction. Not shared; lives for the duration of one issue call.
private final class CertificateBuilder {
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
