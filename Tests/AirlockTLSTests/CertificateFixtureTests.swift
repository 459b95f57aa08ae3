import AirlockTLS
import Foundation
import Testing

/// PEM files for TLS tests, freshly minted into their own temporary directory.
///
/// `ca.crt` is the trust anchor. `server` is valid now for `localhost`, `127.0.0.1` and `::1`; `expired`,
/// `notYetValid` and `wrongHost` (only `wrong.example`) are signed by the same CA; `untrusted` is a valid
/// localhost/127.0.0.1 server certificate from a different CA (`otherCA`); `client` is a clientAuth leaf
/// (CN `lab-client`) of the main CA. Call `remove()` when done.
struct CertificateFixture: Sendable {
    struct Pair: Sendable {
        var certificatePath: String
        var keyPath: String
        /// base64 SHA-256 of the leaf's SubjectPublicKeyInfo, as `pin_sha256` takes it.
        var pin: String
    }

    let directory: URL
    let caPath: String
    let otherCAPath: String
    let server: Pair
    /// Leaf followed by nothing else; `serverChainPath` has leaf then CA.
    let serverChainPath: String
    let expired: Pair
    let notYetValid: Pair
    let wrongHost: Pair
    let untrusted: Pair
    let client: Pair
    /// A client certificate from `otherCA`: mTLS against `caPath` must refuse it.
    let untrustedClient: Pair

    static func make() throws -> CertificateFixture {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-certs-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ca = try CertificateAuthority(selfSignedCommonName: "Airlock test CA")
        let otherCA = try CertificateAuthority(selfSignedCommonName: "Some other CA")
        let now = Date()
        let day: TimeInterval = 86_400

        func write(_ text: String, _ name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        func leaf(
            _ name: String,
            by authority: CertificateAuthority,
            commonName: String = "localhost",
            dnsNames: [String] = ["localhost"],
            ipAddresses: [String] = ["127.0.0.1", "::1"],
            usage: CertificateAuthority.Usage = .server,
            notBefore: Date = now.addingTimeInterval(-day),
            notAfter: Date = now.addingTimeInterval(30 * day)
        ) throws -> Pair {
            let key = try PrivateKey(generating: .ecdsaP256)
            let certificate = try authority.issue(
                commonName: commonName,
                dnsNames: dnsNames,
                ipAddresses: ipAddresses,
                usage: usage,
                notBefore: notBefore,
                notAfter: notAfter,
                key: key
            )
            return Pair(
                certificatePath: try write(certificate.pemRepresentation, "\(name).crt"),
                keyPath: try write(key.pemRepresentation, "\(name).key"),
                pin: certificate.spkiSHA256Base64
            )
        }

        let server = try leaf("server", by: ca)
        let serverChain =
            try String(contentsOfFile: server.certificatePath, encoding: .utf8)
            + ca.certificate.pemRepresentation
        return CertificateFixture(
            directory: directory,
            caPath: try write(ca.certificate.pemRepresentation, "ca.crt"),
            otherCAPath: try write(otherCA.certificate.pemRepresentation, "other-ca.crt"),
            server: server,
            serverChainPath: try write(serverChain, "server-chain.crt"),
            expired: try leaf(
                "expired",
                by: ca,
                notBefore: now.addingTimeInterval(-30 * day),
                notAfter: now.addingTimeInterval(-day)
            ),
            notYetValid: try leaf(
                "not-yet-valid",
                by: ca,
                notBefore: now.addingTimeInterval(day),
                notAfter: now.addingTimeInterval(30 * day)
            ),
            wrongHost: try leaf(
                "wrong-host",
                by: ca,
                commonName: "wrong.example",
                dnsNames: ["wrong.example"],
                ipAddresses: []
            ),
            untrusted: try leaf("untrusted", by: otherCA),
            client: try leaf("client", by: ca, commonName: "lab-client", dnsNames: [], ipAddresses: [], usage: .client),
            untrustedClient: try leaf(
                "untrusted-client",
                by: otherCA,
                commonName: "intruder",
                dnsNames: [],
                ipAddresses: [],
                usage: .client
            )
        )
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.directory)
    }
}

/// Runs the real `openssl` command line tool with a bounded timeout.
enum CertificateTestOpenSSL {
    typealias Output = Shell.Output

    static func run(_ arguments: [String], input: Data? = nil, timeout: TimeInterval = 20) throws -> Output {
        try Shell.execute(["openssl"] + arguments, input: input, timeout: timeout)
    }

    /// `openssl pkeyutl -sign -rawin`: signs the file `message` (Ed25519) into the file `signature`.
    static func sign(key: String, message: String, signature: String) throws -> Output {
        try Self.run(["pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", message, "-out", signature])
    }

    /// `openssl pkeyutl -verify -rawin`: checks the file `signature` over the file `message` with a public key.
    static func verify(publicKey: String, message: String, signature: String) throws -> Output {
        try Self.run([
            "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", publicKey, "-in", message, "-sigfile", signature,
        ])
    }
}

@Suite("Certificate fixture for TLS tests")
struct CertificateFixtureTests {
    @Test func fixtureFilesVerifyAsDocumented() throws {
        let fixture = try CertificateFixture.make()
        defer { fixture.remove() }

        func verify(_ pair: CertificateFixture.Pair, caFile: String, purpose: String = "sslserver") throws -> Bool {
            try CertificateTestOpenSSL.run([
                "verify", "-purpose", purpose, "-CAfile", caFile, pair.certificatePath,
            ]).status == 0
        }
        #expect(try verify(fixture.server, caFile: fixture.caPath))
        #expect(try verify(fixture.client, caFile: fixture.caPath, purpose: "sslclient"))
        #expect(try !verify(fixture.client, caFile: fixture.caPath, purpose: "sslserver"))
        #expect(try verify(fixture.wrongHost, caFile: fixture.caPath))
        #expect(try !verify(fixture.expired, caFile: fixture.caPath))
        #expect(try !verify(fixture.notYetValid, caFile: fixture.caPath))
        #expect(try !verify(fixture.untrusted, caFile: fixture.caPath))
        #expect(try verify(fixture.untrusted, caFile: fixture.otherCAPath))
        #expect(try !verify(fixture.untrustedClient, caFile: fixture.caPath, purpose: "sslclient"))

        let chain = try Certificate.chain(pemFile: fixture.serverChainPath)
        #expect(chain.count == 2)
        #expect(chain.first?.spkiSHA256Base64 == fixture.server.pin)
        #expect(chain.last?.isCertificateAuthority == true)
    }
}
