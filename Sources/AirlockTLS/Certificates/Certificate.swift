import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import Foundation

/// An X.509 certificate held by OpenSSL.
///
/// Immutable and safe to share between threads. Load one from PEM, or get one from
/// ``CertificateAuthority/issue(commonName:dnsNames:ipAddresses:usage:notBefore:notAfter:key:)``.
public final class Certificate: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: the X509 is never mutated after init (OpenSSL caches parsed extensions under its own lock),
    // and its reference counting is atomic.
    let x509: OpaquePointer

    /// Takes ownership of an X509 reference.
    init(taking x509: OpaquePointer) {
        self.x509 = x509
    }

    deinit {
        X509_free(self.x509)
    }

    /// Loads the first certificate in PEM text.
    public convenience init(pemRepresentation: String) throws(CertificateError) {
        let chain = try Self.chain(pemRepresentation: pemRepresentation, source: "PEM text")
        self.init(retaining: chain[0])
    }

    /// Loads the first certificate of a PEM file.
    public convenience init(pemFile path: String) throws(CertificateError) {
        let chain = try Self.chain(pemFile: path)
        self.init(retaining: chain[0])
    }

    private convenience init(retaining other: Certificate) {
        X509_up_ref(other.x509)
        self.init(taking: other.x509)
    }

    /// Loads every certificate in PEM text, in order (leaf first for a chain). Throws if there is none, or if
    /// anything after the last certificate is not a certificate.
    public static func chain(pemRepresentation: String) throws(CertificateError) -> [Certificate] {
        try Self.chain(pemRepresentation: pemRepresentation, source: "PEM text")
    }

    /// Loads every certificate of a PEM file, in order.
    public static func chain(pemFile path: String) throws(CertificateError) -> [Certificate] {
        let text = try CertificateBIO.readFile(path, what: "certificate")
        return try Self.chain(pemRepresentation: text, source: path)
    }

    private static func chain(pemRepresentation: String, source: String) throws(CertificateError) -> [Certificate] {
        OpenSSLErrorQueue.clear()
        return try CertificateBIO.reading(pemRepresentation) { bio throws(CertificateError) -> [Certificate] in
            var certificates: [Certificate] = []
            while true {
                if let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                    certificates.append(Certificate(taking: x509))
                    continue
                }
                // Running out of PEM blocks after at least one certificate is the normal end.
                let error = ERR_peek_last_error()
                if !certificates.isEmpty, ERR_GET_LIB(error) == ERR_LIB_PEM,
                    ERR_GET_REASON(error) == PEM_R_NO_START_LINE
                {
                    ERR_clear_error()
                    return certificates
                }
                let which =
                    certificates.isEmpty ? "no PEM certificate" : "a bad certificate after #\(certificates.count)"
                throw .openSSL(.invalidInput, "\(which) in \(source)")
            }
        }
    }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`).
    public var pemRepresentation: String {
        get throws(CertificateError) {
            OpenSSLErrorQueue.clear()
            return try CertificateBIO.writing("the certificate") { bio in PEM_write_bio_X509(bio, self.x509) == 1 }
        }
    }

    /// The certificate as DER.
    public var derRepresentation: [UInt8] {
        guard let der = CertificateDigest.der({ i2d_X509(self.x509, $0) }) else {
            preconditionFailure("i2d_X509 failed on a parsed certificate")
        }
        return der
    }

    /// SHA-256 of the DER certificate, as `openssl x509 -fingerprint -sha256` prints it (AB:CD:...).
    public var sha256Fingerprint: String {
        CertificateDigest.colonHex(SHA256.hash(self.derRepresentation))
    }

    /// DER SubjectPublicKeyInfo of the certificate's public key.
    public var subjectPublicKeyInfoDER: [UInt8] {
        guard let der = X509Names.subjectPublicKeyInfoDER(of: self.x509) else {
            preconditionFailure("a parsed certificate always has an encodable public key")
        }
        return der
    }

    /// base64(SHA-256(DER SubjectPublicKeyInfo)): the pin format of the proxy configuration's `pin_sha256`.
    public var spkiSHA256Base64: String {
        Data(SHA256.hash(self.subjectPublicKeyInfoDER)).base64EncodedString()
    }

    /// The subject's common name (the last CN if there are several), if any.
    public var commonName: String? {
        X509Names.commonName(in: X509_get_subject_name(self.x509))
    }

    /// The issuer's common name, if any.
    public var issuerCommonName: String? {
        X509Names.commonName(in: X509_get_issuer_name(self.x509))
    }

    /// The subject as one line, RFC 2253 style (`CN=localhost,O=Airlock development`).
    public var subject: String {
        Self.oneLine(X509_get_subject_name(self.x509))
    }

    /// The issuer as one line, RFC 2253 style.
    public var issuer: String {
        Self.oneLine(X509_get_issuer_name(self.x509))
    }

    /// DNS names and IP addresses of the subjectAltName extension, as text (`localhost`, `127.0.0.1`, `::1`),
    /// in certificate order. Other name types are left out.
    public var subjectAlternativeNames: [String] {
        X509Names.subjectAlternativeNames(of: self.x509)
    }

    /// Start of the validity window.
    public var notBefore: Date {
        Self.date(X509_get0_notBefore(self.x509))
    }

    /// End of the validity window.
    public var notAfter: Date {
        Self.date(X509_get0_notAfter(self.x509))
    }

    /// The serial number as upper-case hex.
    public var serialNumberHex: String {
        guard let serial = X509_get0_serialNumber(self.x509), let bignum = ASN1_INTEGER_to_BN(serial, nil) else {
            return ""
        }
        defer { BN_free(bignum) }
        guard let hex = BN_bn2hex(bignum) else { return "" }
        defer { COpenSSLShims_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    /// Whether basicConstraints says CA:TRUE.
    public var isCertificateAuthority: Bool {
        X509_check_ca(self.x509) == 1
    }

    /// Whether `key` is the private key for this certificate's public key.
    public func matches(_ key: PrivateKey) -> Bool {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        return X509_check_private_key(self.x509, key.pkey) == 1
    }

    /// Subject, validity and SANs; useful in test failures and summaries.
    public var description: String {
        let names = self.subjectAlternativeNames
        let sans = names.isEmpty ? "" : ", SAN \(names.joined(separator: " "))"
        return "Certificate(\(self.subject)\(sans), valid \(self.notBefore) to \(self.notAfter))"
    }

    // MARK: Parsing helpers (shared with the TLS layer's peer identity)

    static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        guard
            let text = try? CertificateBIO.writing(
                "a name",
                { bio in
                    X509_NAME_print_ex(bio, name, 0, Self.rfc2253UTF8Flags) >= 0
                }
            )
        else {
            return ""
        }
        return text
    }

    // XN_FLAG_RFC2253 without ASN1_STRFLGS_ESC_MSB, so that UTF-8 names stay readable (Swift cannot import the
    // composite macro).
    private static let rfc2253UTF8Flags: UInt =
        UInt(ASN1_STRFLGS_ESC_2253) | UInt(ASN1_STRFLGS_ESC_CTRL) | UInt(ASN1_STRFLGS_UTF8_CONVERT)
        | UInt(ASN1_STRFLGS_DUMP_UNKNOWN) | UInt(ASN1_STRFLGS_DUMP_DER) | UInt(XN_FLAG_SEP_COMMA_PLUS)
        | UInt(XN_FLAG_DN_REV) | UInt(XN_FLAG_FN_SN) | UInt(XN_FLAG_DUMP_UNKNOWN_FIELDS)

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else {
            preconditionFailure("a parsed certificate always has valid validity times")
        }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
