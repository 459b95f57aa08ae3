import AirlockTLS
import Foundation
import Testing

/// Minted keys and certificates checked by the real `openssl` CLI, never only by our own parser.
@Suite("Certificates")
struct CertificateTests {
    /// A temporary directory removed at the end of the test.
    final class Scratch {
        let url: URL
        init() throws {
            self.url = FileManager.default.temporaryDirectory
                .appendingPathComponent("airlock-cert-test-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: self.url) }

        func write(_ text: String, _ name: String) throws -> String {
            let path = self.url.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    private func openssl(_ arguments: String..., input: Data? = nil) throws -> CertificateTestOpenSSL.Output {
        try CertificateTestOpenSSL.run(arguments, input: input)
    }

    @Test func caCertificateHasCAExtensions() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA", organization: "Airlock tests")
        #expect(ca.certificate.isCertificateAuthority)
        #expect(ca.certificate.commonName == "Airlock test CA")
        #expect(ca.certificate.subject == ca.certificate.issuer)
        let path = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")

        let text = try openssl("x509", "-in", path, "-noout", "-text").text
        #expect(text.contains("CA:TRUE"))
        #expect(text.contains("Certificate Sign, CRL Sign"))
        #expect(text.contains("X509v3 Subject Key Identifier"))
        #expect(text.contains("X509v3 Basic Constraints: critical"))
        #expect(text.contains("X509v3 Key Usage: critical"))
        // A self-signed CA verifies against itself.
        #expect(try openssl("verify", "-CAfile", path, path).status == 0)
    }

    @Test func serverLeafVerifiesAndCarriesSANs() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        let key = try PrivateKey(generating: .ecdsaP256)
        let leaf = try ca.issue(
            commonName: "localhost",
            dnsNames: ["localhost", "airlock.internal"],
            ipAddresses: ["127.0.0.1", "::1"],
            usage: .server,
            key: key
        )
        let caPath = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")
        let leafPath = try scratch.write(leaf.pemRepresentation, "leaf.crt")

        let verified = try openssl(
            "verify",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "localhost",
            "-verify_ip",
            "127.0.0.1",
            "-CAfile",
            caPath,
            leafPath
        )
        #expect(verified.status == 0, "\(verified.text) \(verified.standardError)")
        let sans = try openssl("x509", "-in", leafPath, "-noout", "-ext", "subjectAltName").text
        #expect(sans.contains("DNS:localhost"))
        #expect(sans.contains("DNS:airlock.internal"))
        #expect(sans.contains("IP Address:127.0.0.1"))
        #expect(sans.contains("IP Address:0:0:0:0:0:0:0:1"))
        let text = try openssl("x509", "-in", leafPath, "-noout", "-text").text
        #expect(text.contains("CA:FALSE"))
        #expect(text.contains("TLS Web Server Authentication"))
        #expect(!text.contains("TLS Web Client Authentication"))
        #expect(text.contains("X509v3 Authority Key Identifier"))
        #expect(text.contains("Digital Signature"))
        #expect(!text.contains("Key Encipherment"))

        #expect(leaf.commonName == "localhost")
        #expect(leaf.issuerCommonName == "Airlock test CA")
        #expect(leaf.subjectAlternativeNames == ["localhost", "airlock.internal", "127.0.0.1", "::1"])
        #expect(!leaf.isCertificateAuthority)
        #expect(leaf.matches(key))
        #expect(!leaf.matches(ca.privateKey))
        // 128-bit serial: 32 hex digits, and two leaves never share one.
        #expect(leaf.serialNumberHex.count == 32)
        let second = try ca.issue(commonName: "localhost", key: key)
        #expect(second.serialNumberHex != leaf.serialNumberHex)
    }

    @Test func expiredAndNotYetValidLeavesFailVerification() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        let now = Date()
        let expired = try ca.issue(
            commonName: "localhost",
            dnsNames: ["localhost"],
            notBefore: now.addingTimeInterval(-10 * 86_400),
            notAfter: now.addingTimeInterval(-86_400),
            key: PrivateKey()
        )
        let future = try ca.issue(
            commonName: "localhost",
            dnsNames: ["localhost"],
            notBefore: now.addingTimeInterval(86_400),
            notAfter: now.addingTimeInterval(10 * 86_400),
            key: PrivateKey()
        )
        #expect(expired.notAfter < now)
        #expect(abs(expired.notAfter.timeIntervalSince(now.addingTimeInterval(-86_400))) < 2)
        #expect(future.notBefore > now)
        let caPath = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")
        // `openssl verify` against the CA: its exit status and everything it printed.
        func verify(_ certificate: Certificate, _ name: String) throws -> (status: Int32, output: String) {
            let path = try scratch.write(certificate.pemRepresentation, name)
            let result = try openssl("verify", "-CAfile", caPath, path)
            return (result.status, result.text + result.standardError)
        }
        let expiredResult = try verify(expired, "e.crt")
        #expect(expiredResult.status != 0)
        #expect(expiredResult.output.contains("certificate has expired"))
        let futureResult = try verify(future, "f.crt")
        #expect(futureResult.status != 0)
        #expect(futureResult.output.contains("not yet valid"))
    }

    @Test func leafFailsAgainstAnotherCAAndWrongHost() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        let other = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")  // same name, other key
        let leaf = try ca.issue(commonName: "wrong.example", dnsNames: ["wrong.example"], key: PrivateKey())
        let leafPath = try scratch.write(leaf.pemRepresentation, "leaf.crt")
        let otherPath = try scratch.write(other.certificate.pemRepresentation, "other.crt")
        let caPath = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")
        #expect(try openssl("verify", "-CAfile", otherPath, leafPath).status != 0)
        #expect(try openssl("verify", "-CAfile", caPath, leafPath).status == 0)
        #expect(try openssl("verify", "-verify_hostname", "localhost", "-CAfile", caPath, leafPath).status != 0)
    }

    @Test func clientAndRSALeaves() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(
            selfSignedCommonName: "Airlock test CA",
            key: PrivateKey(generating: .rsa(bits: 2048))
        )
        let rsaKey = try PrivateKey(generating: .rsa(bits: 2048))
        #expect(rsaKey.algorithm == .rsa(bits: 2048))
        let client = try ca.issue(commonName: "lab-client", usage: .client, key: rsaKey)
        let both = try ca.issue(commonName: "both", usage: .serverAndClient, key: PrivateKey())
        let caPath = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")
        let clientPath = try scratch.write(client.pemRepresentation, "client.crt")
        let bothPath = try scratch.write(both.pemRepresentation, "both.crt")
        #expect(try openssl("verify", "-purpose", "sslclient", "-CAfile", caPath, clientPath).status == 0)
        #expect(try openssl("verify", "-purpose", "sslserver", "-CAfile", caPath, clientPath).status != 0)
        #expect(try openssl("verify", "-purpose", "sslclient", "-CAfile", caPath, bothPath).status == 0)
        #expect(try openssl("verify", "-purpose", "sslserver", "-CAfile", caPath, bothPath).status == 0)
        let text = try openssl("x509", "-in", clientPath, "-noout", "-text").text
        #expect(text.contains("Key Encipherment"))
        #expect(text.contains("TLS Web Client Authentication"))
        #expect(text.contains("sha256WithRSAEncryption"))
    }

    @Test func pinMatchesOpenSSLPipeline() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        for algorithm in [PrivateKey.Algorithm.ecdsaP256, .rsa(bits: 2048), .ed25519] {
            let key = try PrivateKey(generating: algorithm)
            let leaf = try ca.issue(commonName: "pin.example", dnsNames: ["pin.example"], key: key)
            let path = try scratch.write(leaf.pemRepresentation, "leaf.crt")
            // openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64
            let publicKey = try openssl("x509", "-in", path, "-pubkey", "-noout").standardOutput
            let der = try openssl("pkey", "-pubin", "-outform", "DER", input: publicKey).standardOutput
            let digest = try openssl("dgst", "-sha256", "-binary", input: der).standardOutput
            #expect(digest.count == 32)
            #expect(leaf.spkiSHA256Base64 == digest.base64EncodedString(), "\(algorithm)")
            #expect(key.spkiSHA256Base64 == leaf.spkiSHA256Base64)
            #expect(leaf.subjectPublicKeyInfoDER == Array(der))
        }
    }

    @Test func fingerprintMatchesOpenSSL() throws {
        let scratch = try Scratch()
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        let path = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")
        let printed = try openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha256").text
        #expect(
            printed.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("=\(ca.certificate.sha256Fingerprint)")
        )
    }

    @Test(arguments: [PrivateKey.Algorithm.ecdsaP256, .rsa(bits: 2048), .ed25519])
    func keysRoundTripThroughOpenSSL(_ algorithm: PrivateKey.Algorithm) throws {
        let scratch = try Scratch()
        let key = try PrivateKey(generating: algorithm)
        let pem = try key.pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(try key.publicKeyPEM.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        let keyPath = try scratch.write(pem, "k.key")
        let checked = try openssl("pkey", "-in", keyPath, "-noout")
        #expect(checked.status == 0, "\(checked.standardError)")
        // openssl derives the same public key from our private key.
        let derived = try openssl("pkey", "-in", keyPath, "-pubout").text
        #expect(derived == (try key.publicKeyPEM))
        // And we read back what we wrote.
        let reloaded = try PrivateKey(pemFile: keyPath)
        #expect(reloaded.spkiSHA256Base64 == key.spkiSHA256Base64)
        #expect(reloaded.algorithm == algorithm)
        #expect(!key.description.contains("PRIVATE"))
    }

    @Test func ed25519KeySignsAndVerifiesWithOpenSSL() throws {
        let scratch = try Scratch()
        let key = try PrivateKey(generating: .ed25519)
        let keyPath = try scratch.write(key.pemRepresentation, "audit.key")
        let publicPath = try scratch.write(key.publicKeyPEM, "audit.pub")
        let message = try scratch.write("checkpoint 42 root abcdef\n", "message")
        let signaturePath = scratch.url.appendingPathComponent("sig").path
        let signed = try CertificateTestOpenSSL.sign(key: keyPath, message: message, signature: signaturePath)
        #expect(signed.status == 0, "\(signed.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: signaturePath)).count == 64)
        let verified = try CertificateTestOpenSSL.verify(
            publicKey: publicPath,
            message: message,
            signature: signaturePath
        )
        #expect(verified.status == 0, "\(verified.standardError)")
        // A different message must not verify: the check above could fail.
        let other = try scratch.write("checkpoint 43 root abcdef\n", "other")
        let forged = try CertificateTestOpenSSL.verify(publicKey: publicPath, message: other, signature: signaturePath)
        #expect(forged.status != 0)
    }

    @Test func loadsChainsAndOpenSSLWrittenFiles() throws {
        let scratch = try Scratch()
        let keyPath = scratch.url.appendingPathComponent("ossl.key").path
        let certPath = scratch.url.appendingPathComponent("ossl.crt").path
        let made = try openssl(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            keyPath,
            "-out",
            certPath,
            "-days",
            "2",
            "-subj",
            "/CN=openssl made",
            "-addext",
            "subjectAltName=DNS:a.example,IP:10.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:TRUE"
        )
        #expect(made.status == 0, "\(made.standardError)")
        let certificate = try Certificate(pemFile: certPath)
        let key = try PrivateKey(pemFile: keyPath)
        #expect(certificate.commonName == "openssl made")
        #expect(certificate.subjectAlternativeNames == ["a.example", "10.0.0.1"])
        #expect(certificate.matches(key))
        let ca = try CertificateAuthority(certificatePEMFile: certPath, privateKeyPEMFile: keyPath)
        let leaf = try ca.issue(commonName: "x", key: PrivateKey())
        let chainText = try leaf.pemRepresentation + ca.certificate.pemRepresentation
        let chain = try Certificate.chain(pemRepresentation: "# comment before\n" + chainText)
        #expect(chain.map(\.commonName) == ["x", "openssl made"])
        #expect(try Certificate(pemRepresentation: chainText).commonName == "x")
        // DER round trip, compared with openssl's own encoding.
        let der = try openssl("x509", "-in", certPath, "-outform", "DER").standardOutput
        #expect(certificate.derRepresentation == Array(der))
    }

    @Test func refusesBadInput() throws {
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        let key = try PrivateKey()
        #expect(throws: CertificateError.self) { try Certificate(pemRepresentation: "not a certificate") }
        #expect(throws: CertificateError.self) {
            try PrivateKey(pemRepresentation: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        }
        #expect(throws: CertificateError.self) { try Certificate(pemFile: "/nonexistent/airlock.crt") }
        #expect(throws: CertificateError.self) { try ca.issue(commonName: "x", dnsNames: ["a,IP:1.2.3.4"], key: key) }
        #expect(throws: CertificateError.self) { try ca.issue(commonName: "x", ipAddresses: ["localhost"], key: key) }
        #expect(throws: CertificateError.self) {
            try ca.issue(commonName: "x", notBefore: Date(), notAfter: Date().addingTimeInterval(-1), key: key)
        }
        #expect(throws: CertificateError.self) { try PrivateKey(generating: .rsa(bits: 512)) }
        // A CA whose key does not match, and a leaf used as a CA, are both refused.
        #expect(throws: CertificateError.self) {
            try CertificateAuthority(certificate: ca.certificate, privateKey: key)
        }
        let leaf = try ca.issue(commonName: "leaf", key: key)
        #expect(throws: CertificateError.self) { try CertificateAuthority(certificate: leaf, privateKey: key) }
        // #require: the test fails if garbage is ever accepted, not only if the error is badly shaped.
        let error = try #require(throws: CertificateError.self) { try Certificate(pemRepresentation: "garbage") }
        #expect(!error.description.contains("\n"))
        #expect(error.code == .invalidInput)
    }

    @Test func encryptedKeyIsRefusedNotPrompted() throws {
        let scratch = try Scratch()
        let path = scratch.url.appendingPathComponent("enc.key").path
        let made = try openssl(
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes256",
            "-pass",
            "pass:secret",
            "-out",
            path
        )
        #expect(made.status == 0)
        #expect(throws: CertificateError.self) { try PrivateKey(pemFile: path) }
    }

    /// An empty passphrase is still a passphrase: both loaders refuse such a key instead of trying "" on it.
    @Test func keyEncryptedWithAnEmptyPassphraseIsRefusedByBothLoaders() throws {
        let scratch = try Scratch()
        let encrypted = scratch.url.appendingPathComponent("empty-pass.key").path
        let plain = scratch.url.appendingPathComponent("plain.key").path
        let certificate = scratch.url.appendingPathComponent("server.crt").path
        let steps = [
            [
                "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:",
                "-out", encrypted,
            ],
            ["pkey", "-in", encrypted, "-passin", "pass:", "-out", plain],
            ["req", "-x509", "-new", "-key", plain, "-subj", "/CN=localhost", "-days", "1", "-out", certificate],
        ]
        for step in steps {
            let result = try CertificateTestOpenSSL.run(step)
            try #require(result.status == 0, "\(step): \(result.standardError)")
        }
        // The same key unencrypted loads in both, so a refusal below is about the encryption.
        _ = try PrivateKey(pemFile: plain)
        _ = try TLSServerContext(
            configuration: TLSServerConfiguration(certificateChainPath: certificate, privateKeyPath: plain)
        )
        #expect(throws: CertificateError.self) { try PrivateKey(pemFile: encrypted) }
        let error = try #require(throws: TLSError.self) {
            try TLSServerContext(
                configuration: TLSServerConfiguration(certificateChainPath: certificate, privateKeyPath: encrypted)
            )
        }
        #expect(error.code == .configuration)
    }
}
