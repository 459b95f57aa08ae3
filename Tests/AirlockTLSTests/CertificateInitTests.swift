import AirlockTLS
import Foundation
import Testing

/// `airlock certs init`: the development set, checked with the real `openssl` CLI and the file system.
@Suite("Development certificates (certs init)")
struct CertificateInitTests {
    private func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-certs-init-\(UUID().uuidString)", isDirectory: true)
            .appendingPathComponent("Certs", isDirectory: true)
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    private func openssl(_ arguments: String..., input: Data? = nil) throws -> CertificateTestOpenSSL.Output {
        try CertificateTestOpenSSL.run(arguments, input: input)
    }

    @Test func writesTheWholeSetWithSecretModes() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let files = try DevelopmentCertificates.create(in: directory, force: false)
        #expect(files.map(\.name) == DevelopmentCertificates.fileNames)
        let listed = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(listed == DevelopmentCertificates.fileNames.sorted(), "no temporary files left behind")

        for file in files {
            let expected = file.name.hasSuffix(".key") ? 0o600 : 0o644
            #expect(try self.mode(file.path) == expected, "\(file.name)")
            #expect((file.kind == .secret) == file.name.hasSuffix(".key"))
            // The summary never contains key material: no line of a secret file shows up in any summary.
            if file.kind == .secret {
                let secretLines = try String(contentsOfFile: file.path, encoding: .utf8)
                    .split(separator: "\n").filter { !$0.hasPrefix("-----") }
                #expect(!secretLines.isEmpty)
                let summaries = files.flatMap { $0.fingerprints + [$0.summary, $0.path] }.joined(separator: "\n")
                for line in secretLines {
                    #expect(!summaries.contains(line), "\(file.name) leaked into the summary")
                }
            }
        }
    }

    @Test func theSetVerifiesWithOpenSSL() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try DevelopmentCertificates.create(in: directory)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        let server = try openssl(
            "verify",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "localhost",
            "-CAfile",
            path("ca.crt"),
            path("airlock.crt")
        )
        #expect(server.status == 0, "\(server.standardError)")
        for ip in ["127.0.0.1", "::1"] {
            #expect(try openssl("verify", "-verify_ip", ip, "-CAfile", path("ca.crt"), path("airlock.crt")).status == 0)
        }
        #expect(
            try openssl("verify", "-verify_ip", "10.0.0.1", "-CAfile", path("ca.crt"), path("airlock.crt")).status != 0
        )
        let client = try openssl("verify", "-purpose", "sslclient", "-CAfile", path("ca.crt"), path("client.crt"))
        #expect(client.status == 0, "\(client.standardError)")
        #expect(try openssl("x509", "-in", path("client.crt"), "-noout", "-subject").text.contains("CN = lab-client"))
        let sans = try openssl("x509", "-in", path("airlock.crt"), "-noout", "-ext", "subjectAltName").text
        #expect(sans.contains("DNS:localhost") && sans.contains("IP Address:127.0.0.1"))

        // Every key belongs to its certificate: openssl derives the same public key from both.
        for (certificate, key) in [("ca.crt", "ca.key"), ("airlock.crt", "airlock.key"), ("client.crt", "client.key")] {
            let fromCertificate = try openssl("x509", "-in", path(certificate), "-pubkey", "-noout").text
            let fromKey = try openssl("pkey", "-in", path(key), "-pubout").text
            #expect(!fromKey.isEmpty)
            #expect(fromCertificate == fromKey, "\(key) does not match \(certificate)")
        }

        // The audit key pair signs and verifies.
        let message = directory.appendingPathComponent("message").path
        let signature = directory.appendingPathComponent("signature").path
        try "checkpoint\n".write(toFile: message, atomically: true, encoding: .utf8)
        #expect(
            try CertificateTestOpenSSL.sign(key: path("audit-signing.key"), message: message, signature: signature)
                .status == 0
        )
        #expect(
            try CertificateTestOpenSSL.verify(
                publicKey: path("audit-signing.pub"),
                message: message,
                signature: signature
            ).status == 0
        )
        #expect(try openssl("pkey", "-in", path("audit-signing.key"), "-noout", "-text").text.contains("ED25519"))

        // The pseudonym key: one line of base64 for 32 bytes.
        let pseudonym = try String(contentsOfFile: path("pseudonym.key"), encoding: .utf8)
        #expect(pseudonym.hasSuffix("\n"))
        #expect(pseudonym.filter { $0 == "\n" }.count == 1)
        let decoded = try #require(Data(base64Encoded: String(pseudonym.dropLast())))
        #expect(decoded.count == 32)
        #expect(decoded != Data(count: 32))
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try DevelopmentCertificates.create(in: directory)
        let keyPath = directory.appendingPathComponent("ca.key").path
        let before = try String(contentsOfFile: keyPath, encoding: .utf8)

        let error = try #require(throws: CertificateError.self) {
            try DevelopmentCertificates.create(in: directory, force: false)
        }
        #expect(error.code == .alreadyExists)
        #expect(error.description.contains("ca.crt"))
        #expect(error.description.contains("--force"))
        #expect(!error.description.contains("\n"))
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8) == before)

        try DevelopmentCertificates.create(in: directory, force: true)
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8) != before)
        #expect(try self.mode(keyPath) == 0o600)
    }

    @Test func oneExistingFileStopsTheWholeSet() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let existing = directory.appendingPathComponent("pseudonym.key").path
        try "keep me\n".write(toFile: existing, atomically: true, encoding: .utf8)

        let error = try #require(throws: CertificateError.self) { try DevelopmentCertificates.create(in: directory) }
        #expect(error.description.contains("pseudonym.key"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["pseudonym.key"])
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me\n")
    }

    @Test func loadsTheWrittenCAAndIssuesFromIt() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try DevelopmentCertificates.create(in: directory)
        let ca = try CertificateAuthority(
            certificatePEMFile: directory.appendingPathComponent("ca.crt").path,
            privateKeyPEMFile: directory.appendingPathComponent("ca.key").path
        )
        let leaf = try ca.issue(commonName: "vendor.example", dnsNames: ["vendor.example"], key: PrivateKey())
        let leafPath = directory.appendingPathComponent("vendor.crt").path
        try leaf.pemRepresentation.write(toFile: leafPath, atomically: true, encoding: .utf8)
        #expect(
            try openssl("verify", "-CAfile", directory.appendingPathComponent("ca.crt").path, leafPath).status == 0
        )
        // The server key is not the CA key.
        #expect(throws: CertificateError.self) {
            try CertificateAuthority(
                certificatePEMFile: directory.appendingPathComponent("ca.crt").path,
                privateKeyPEMFile: directory.appendingPathComponent("airlock.key").path
            )
        }
    }
}
