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
    ///   - permittedDNSNames: with names, the CA carries critical X.509 name constraints (RFC 5280 §4.2.1.10): it can
    ///     only vouch for these DNS names and names under them, for no IP address at all, and signs no sub-CA
    ///     (`pathlen:0`). Verifiers reject any other name it signs (`permitted subtree violation`).
    public init(
        selfSignedCommonName commonName: String,
        organization: String? = nil,
        notBefore: Date = Date(timeIntervalSinceNow: -300),
        notAfter: Date = Date(timeIntervalSinceNow: 10 * 365 * 86_400),
        key: PrivateKey? = nil,
        permittedDNSNames: [String]? = nil
    ) throws(CertificateError) {
        let key = if let key { key } else { try PrivateKey(generating: .ecdsaP256) }
        let builder = try CertificateBuilder(subjectPublicKey: key, notBefore: notBefore, notAfter: notAfter)
        try builder.setSubject(commonName: commonName, organization: organization)
        try builder.setIssuer(builder.x509)
        let basicConstraints = permittedDNSNames == nil ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0"
        try builder.addExtension(NID_basic_constraints, basicConstraints, issuer: builder.x509)
        try builder.addExtension(NID_key_usage, "critical,keyCertSign,cRLSign", issuer: builder.x509)
        if let permittedDNSNames {
            try builder.addExtension(
                NID_name_constraints,
                try Self.nameConstraints(permittedDNSNames),
                issuer: builder.x509
            )
        }
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

    /// The X509V3 config text of name constraints permitting `names` (and names under them) and excluding every IPv4
    /// and IPv6 address.
    private static func nameConstraints(_ names: [String]) throws(CertificateError) -> String {
        guard !names.isEmpty else {
            throw CertificateError(code: .invalidInput, message: "name constraints need at least one DNS name")
        }
        var entries: [String] = []
        for name in names {
            guard Self.isDNSName(name), !name.contains("*") else {
                throw CertificateError(
                    code: .invalidInput,
                    message: "'\(name)' is not a DNS name for a name constraint"
                )
            }
            entries.append("permitted;DNS:\(name)")
        }
        entries.append("excluded;IP:0.0.0.0/0.0.0.0")
        entries.append("excluded;IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0")
        return "critical," + entries.joined(separator: ",")
    }

    /// ASCII letters, digits, `-`, `.`, `*` and `_` only: nothing that could smuggle another entry into config text.
    private static func isDNSName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "*"),
                    UInt8(ascii: "_"):
                    true
                default: false
                }
            }
    }

    /// Builds the X509V3 config text for subjectAltName, refusing anything that could smuggle in other entries.
    private static func subjectAlternativeNames(
        dnsNames: [String],
        ipAddresses: [String]
    ) throws(CertificateError) -> String {
        var entries: [String] = []
        for name in dnsNames {
            guard Self.isDNSName(name) else {
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
