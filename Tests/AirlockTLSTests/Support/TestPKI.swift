import Foundation

/// Certificates for the TLS tests, made by the real `openssl` command line tool so that the handlers are tested
/// against material Airlock did not produce itself.
///
/// One set per test process (generation takes a moment); files live in a temporary directory.
struct TestPKI: Sendable {
    let directory: URL

    var caCertificate: String { self.path("ca.crt") }
    var serverCertificate: String { self.path("server.crt") }
    var serverKey: String { self.path("server.key") }
    var clientCertificate: String { self.path("client.crt") }
    var clientKey: String { self.path("client.key") }
    /// Signed by a CA the tests never trust.
    var untrustedServerCertificate: String { self.path("untrusted-server.crt") }
    var untrustedServerKey: String { self.path("untrusted-server.key") }
    var otherCACertificate: String { self.path("other-ca.crt") }
    /// Signed by the trusted CA, but for vendor.example.com only.
    var wrongHostCertificate: String { self.path("wrong-host.crt") }
    var wrongHostKey: String { self.path("wrong-host.key") }
    /// Signed by the trusted CA for 127.0.0.1/localhost, valid only in 2020.
    var expiredCertificate: String { self.path("expired.crt") }
    var expiredKey: String { self.path("expired.key") }

    func path(_ name: String) -> String {
        self.directory.appendingPathComponent(name).path
    }

    static let shared: TestPKI = {
        do {
            return try TestPKI.generate()
        } catch {
            fatalError("cannot create test certificates with openssl: \(error)")
        }
    }()

    private static func generate() throws -> TestPKI {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-tls-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TestPKI(directory: directory)
        let caExtensions = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        try caExtensions.write(toFile: pki.path("ca.ext"), atomically: true, encoding: .utf8)

        try pki.makeCA(name: "ca", commonName: "Airlock Test CA")
        try pki.makeCA(name: "other-ca", commonName: "Someone Else's CA")
        try pki.makeLeaf(
            name: "server",
            commonName: "localhost",
            ca: "ca",
            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
        )
        try pki.makeLeaf(
            name: "client",
            commonName: "lab-client",
            ca: "ca",
            extensions: "subjectAltName=DNS:lab-client.internal\nextendedKeyUsage=clientAuth\n"
        )
        try pki.makeLeaf(
            name: "untrusted-server",
            commonName: "localhost",
            ca: "other-ca",
            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
        )
        try pki.makeLeaf(
            name: "wrong-host",
            commonName: "vendor.example.com",
            ca: "ca",
            extensions: "subjectAltName=DNS:vendor.example.com\nextendedKeyUsage=serverAuth\n"
        )
        try pki.makeExpiredLeaf()
        return pki
    }

    private func makeCA(name: String, commonName: String) throws {
        try Shell.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.path("\(name).key"), "-out", self.path("\(name).crt"), "-days", "30",
            "-subj", "/CN=\(commonName)", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private func makeLeaf(name: String, commonName: String, ca: String, extensions: String) throws {
        try extensions.write(toFile: self.path("\(name).ext"), atomically: true, encoding: .utf8)
        try Shell.run([
            "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.path("\(name).key"), "-out", self.path("\(name).csr"), "-subj", "/CN=\(commonName)",
        ])
        try Shell.run([
            "openssl", "x509", "-req", "-in", self.path("\(name).csr"), "-CA", self.path("\(ca).crt"),
            "-CAkey", self.path("\(ca).key"), "-CAcreateserial", "-days", "30", "-extfile", self.path("\(name).ext"),
            "-out", self.path("\(name).crt"),
        ])
    }

    /// `openssl x509` cannot back-date; `openssl ca` can, given a minimal database.
    private func makeExpiredLeaf() throws {
        let database = self.directory.appendingPathComponent("ca-db")
        try FileManager.default.createDirectory(at: database, withIntermediateDirectories: true)
        try "".write(to: database.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
        try "1000\n".write(to: database.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        let configuration = """
            [ ca ]
            default_ca = test
            [ test ]
            dir = \(database.path)
            database = $dir/index.txt
            serial = $dir/serial
            new_certs_dir = $dir
            default_md = sha256
            policy = anything
            copy_extensions = none
            unique_subject = no
            [ anything ]
            commonName = supplied
            [ leaf ]
            basicConstraints = CA:FALSE
            subjectAltName = DNS:localhost,IP:127.0.0.1
            extendedKeyUsage = serverAuth
            """
        try configuration.write(toFile: self.path("ca.cnf"), atomically: true, encoding: .utf8)
        try Shell.run([
            "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.path("expired.key"), "-out", self.path("expired.csr"), "-subj", "/CN=localhost",
        ])
        try Shell.run([
            "openssl", "ca", "-batch", "-config", self.path("ca.cnf"), "-cert", self.path("ca.crt"),
            "-keyfile", self.path("ca.key"), "-in", self.path("expired.csr"), "-out", self.path("expired.crt"),
            "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extensions", "leaf", "-notext",
        ])
    }

    /// The SPKI SHA-256 pin of a certificate, computed by the openssl tool.
    func pin(of certificate: String) throws -> String {
        let der = try Shell.run([
            "sh", "-c",
            "openssl x509 -in '\(certificate)' -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64",
        ])
        return der.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
