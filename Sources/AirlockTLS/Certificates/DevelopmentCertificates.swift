internal import COpenSSL
import Foundation

/// The certificate and key set `airlock certs init` creates for development and tests.
///
/// Everything is generated with the OpenSSL API. Private keys and secrets are written with mode 0600, every file
/// atomically (a temporary file in the same directory, then a link or rename), and nothing existing is overwritten
/// unless `force` is set.
public enum DevelopmentCertificates {
    /// One file of the set, for the summary. Carries public facts only, never key material.
    public struct File: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case certificate
            case publicKey
            /// Mode 0600.
            case secret
        }

        /// The file's name inside the directory, e.g. `ca.key`.
        public var name: String
        /// Full path as written.
        public var path: String
        public var kind: Kind
        /// What it is and what it is for, one line.
        public var summary: String
        /// Public facts that identify it: certificate SHA-256 fingerprint and/or the SPKI SHA-256 pin; empty for
        /// secrets that have no public half.
        public var fingerprints: [String]
    }

    /// The names `create` writes, in order.
    public static let fileNames = [
        "ca.crt", "ca.key", "airlock.crt", "airlock.key", "client.crt", "client.key",
        "audit-signing.key", "audit-signing.pub", "pseudonym.key",
    ]

    /// The common name of the client certificate.
    public static let clientCommonName = "lab-client"

    /// Creates the directory if needed and writes the whole set into it.
    ///
    /// - Without `force`, throws `.alreadyExists` naming the first file that exists, before writing anything.
    /// - Returns: the files written, in ``fileNames`` order.
    // Over 80 lines: generates the whole set before writing any of it, so a failure leaves no half-made set.
    @discardableResult
    public static func create(in directory: URL, force: Bool = false) throws(CertificateError) -> [File] {
        let directoryPath = directory.path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CertificateError(
                code: .io,
                message: "cannot create directory \(directoryPath): \(CertificateBIO.reason(error))"
            )
        }
        if !force {
            for name in Self.fileNames {
                let path = directory.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: path) {
                    throw Self.refusal(path)
                }
            }
        }

        // Generate everything before writing anything, so a failure leaves no half-made set.
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock development CA", organization: "Airlock")
        let serverKey = try PrivateKey(generating: .ecdsaP256)
        let server = try ca.issue(
            commonName: "localhost",
            dnsNames: ["localhost"],
            ipAddresses: ["127.0.0.1", "::1"],
            usage: .server,
            key: serverKey
        )
        let clientKey = try PrivateKey(generating: .ecdsaP256)
        let client = try ca.issue(commonName: Self.clientCommonName, usage: .client, key: clientKey)
        let auditKey = try PrivateKey(generating: .ed25519)
        var pseudonymSecret = [UInt8](repeating: 0, count: 32)
        OpenSSLErrorQueue.clear()
        guard RAND_bytes(&pseudonymSecret, Int32(pseudonymSecret.count)) == 1 else {
            throw .openSSL(.internalError, "the random generator failed while making the pseudonym key")
        }
        defer { OPENSSL_cleanse(&pseudonymSecret, pseudonymSecret.count) }

        func certificateFacts(_ certificate: Certificate) -> [String] {
            ["sha256 \(certificate.sha256Fingerprint)", "spki-sha256 \(certificate.spkiSHA256Base64)"]
        }
        func keyFacts(_ key: PrivateKey) -> [String] {
            ["public spki-sha256 \(key.spkiSHA256Base64)"]
        }

        let contents: [(name: String, kind: File.Kind, summary: String, facts: [String], text: String)] = [
            (
                "ca.crt", .certificate, "development CA certificate (trust anchor; listen.tls.client_ca for mTLS)",
                certificateFacts(ca.certificate), try ca.certificate.pemRepresentation
            ),
            (
                "ca.key", .secret, "development CA private key (ECDSA P-256)",
                keyFacts(ca.privateKey), try ca.privateKey.pemRepresentation
            ),
            (
                "airlock.crt", .certificate,
                "server certificate for localhost, 127.0.0.1, ::1 (listen.tls.certificate)",
                certificateFacts(server), try server.pemRepresentation
            ),
            (
                "airlock.key", .secret, "server private key (listen.tls.key)",
                keyFacts(serverKey), try serverKey.pemRepresentation
            ),
            (
                "client.crt", .certificate, "mTLS client certificate, CN \(Self.clientCommonName)",
                certificateFacts(client), try client.pemRepresentation
            ),
            (
                "client.key", .secret, "mTLS client private key",
                keyFacts(clientKey), try clientKey.pemRepresentation
            ),
            (
                "audit-signing.key", .secret, "audit log checkpoint signing key (Ed25519, PKCS#8)",
                keyFacts(auditKey), try auditKey.pemRepresentation
            ),
            (
                "audit-signing.pub", .publicKey, "audit log checkpoint verification key (Ed25519, SPKI)",
                ["spki-sha256 \(auditKey.spkiSHA256Base64)"], try auditKey.publicKeyPEM
            ),
            (
                "pseudonym.key", .secret, "pseudonym HMAC key (32 random bytes, base64)",
                [], Data(pseudonymSecret).base64EncodedString() + "\n"
            ),
        ]

        var written: [File] = []
        for item in contents {
            let path = directory.appendingPathComponent(item.name).path
            try AtomicFile.write(
                Array(item.text.utf8),
                to: path,
                mode: item.kind == .secret ? 0o600 : 0o644,
                overwrite: force
            )
            written.append(
                File(name: item.name, path: path, kind: item.kind, summary: item.summary, fingerprints: item.facts)
            )
        }
        AtomicFile.syncDirectory(directoryPath)
        return written
    }

    static func refusal(_ path: String) -> CertificateError {
        CertificateError(
            code: .alreadyExists,
            message: "refusing to overwrite \(path): it already exists (use --force to replace the whole set)"
        )
    }
}
